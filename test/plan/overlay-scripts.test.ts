import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { LOGIN_PROBE_FILE, locateOverlayScript, OVERLAY_DIR, OVERLAY_SCRIPT_FILES, readOverlayScripts, type OverlayScripts } from '../../src/acquire/overlay-scripts.ts';
import { recipeSchema } from '../../src/config/schema.ts';
import { FIRSTBOOT_RECORDS, LOGIN_RELEASE_DIR, planFirstBoot } from '../../src/kube/firstboot.ts';
import { PIN_MARK, planServerPin } from '../../src/kube/k3s/pin-server.ts';
import { planPodRoutes, POD_ROUTES_FILE, POD_ROUTES_SCRIPT } from '../../src/kube/static/pod-routes.ts';
import { planIdentity } from '../../src/plan/identity-entries.ts';
import type { PlanEntry } from '../../src/plan/types.ts';
import { bookwormFacts } from '../helpers/plan-facts.ts';

// pikube's shell scripts are real files under overlay/: each one is checked as a shell script, each is placed by
// some plan byte for byte (no orphan, nothing still written from a string; the login probe, which boot-test runs
// over SSH, is tested in test/boot-test), and each agrees with the paths and marks the TypeScript side uses.

async function listOverlayFiles(): Promise<string[]> {
  const entries = await readdir(OVERLAY_DIR, { withFileTypes: true, recursive: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(OVERLAY_DIR, join(e.parentPath, e.name))).sort();
}

test('every overlay script passes shellcheck, sh -n and its own shell\'s -n, and is executable', async (t) => {
  const files = (await listOverlayFiles()).filter((file) => file.endsWith('.sh'));
  t.true(files.length >= 6);
  for (const file of files) {
    const path = join(OVERLAY_DIR, file);
    const shebang = /^#!\/bin\/(sh|bash)\b/.exec(await readFile(path, 'utf8'));
    t.truthy(shebang, `${file} starts with #!/bin/sh or #!/bin/bash`);
    for (const shell of new Set(['sh', shebang?.[1] ?? 'sh'])) {
      const syntax = await execa(shell, ['-n', path], { reject: false });
      t.is(syntax.exitCode, 0, `${shell} -n ${file}: ${String(syntax.stderr)}`);
    }
    const check = await execa('shellcheck', ['--severity=style', path], { reject: false });
    t.is(check.exitCode, 0, `${file}: ${String(check.stdout)}`);
    t.is((await stat(path)).mode & 0o777, 0o755, `${file} is executable in the package`);
  }
});

// Every plan generator that places one of pikube's scripts, each in the shape that places it.
function planEveryScript(scripts: OverlayScripts): PlanEntry[] {
  return [
    ...planFirstBoot({ profile: 'k3s', role: 'agent', node: 'pi-2', architecture: 'arm64', bootMount: '/boot/firmware', imageDir: '/var/lib/rancher/k3s/agent/images', builds: [], scripts, after: 'k3s-agent.service' }),
    ...planServerPin('k3s-agent', 'pi-1.local', scripts.pinServer),
    ...planPodRoutes([{ subnet: '10.200.1.0/24', host: 'pi-2.local' }], scripts.podRoutes),
    ...planIdentity(recipeSchema.parse(parse('base: bookworm.img\nhostname: pi-2\n')), bookwormFacts(), { instanceId: 'pikube-test', ownHostKeys: true, keepHostKeysScript: scripts.keepHostKeys }),
  ];
}

test('every file in overlay/ is one of pikube\'s scripts, and some plan places each one from its file, 0755, root-owned', async (t) => {
  t.deepEqual(await listOverlayFiles(), [...Object.values(OVERLAY_SCRIPT_FILES), LOGIN_PROBE_FILE].sort(), 'no orphan in overlay/, none listed but missing');
  const scripts = await readOverlayScripts();
  const placed = planEveryScript(scripts).flatMap((entry) => (entry.type === 'file' && entry.content.kind === 'host' ? [entry] : []));
  for (const [name, file] of Object.entries(scripts)) {
    const entry = placed.find((e) => e.content.kind === 'host' && e.content.path === file.hostPath);
    t.like(entry, { mode: 0o755, uid: 0, gid: 0, content: { kind: 'host', size: file.size, sha256: file.sha256 } }, `${name} is placed by a plan`);
    t.is(file.hostPath, locateOverlayScript(name as keyof OverlayScripts));
  }
  const texts = planEveryScript(scripts).flatMap((entry) => (entry.type === 'file' && entry.content.kind === 'text' ? [entry.content.text] : []));
  t.false(texts.some((text) => text.startsWith('#!')), 'no plan writes a shell script from a string');
});

test('the scripts name the same paths and marks as the TypeScript that places them', async (t) => {
  const text = async (name: keyof OverlayScripts) => readFile(locateOverlayScript(name), 'utf8');
  const firstBoot = await text('firstBoot');
  t.regex(firstBoot, /^\. \/etc\/pikube\/firstboot\.env$/m);
  t.true(firstBoot.includes(`\nDONE=${FIRSTBOOT_RECORDS.done}\n`));
  t.true(firstBoot.includes(`\nRUNS=${FIRSTBOOT_RECORDS.runs}\n`));
  const entries = planEveryScript(await readOverlayScripts());
  t.truthy(entries.find((e) => e.path === '/etc/pikube/firstboot.env'), 'the plan writes the env file first boot reads');
  const finish = await text('bootTestFinish');
  t.true(finish.includes(`\nBOOTS=${FIRSTBOOT_RECORDS.boots}\n`));
  t.true(finish.includes(`\nJOURNAL=${FIRSTBOOT_RECORDS.journal}\n`));
  t.true(finish.includes(`\nRELEASE_DIR=${LOGIN_RELEASE_DIR}\n`));
  t.true((await readFile(locateOverlayScript('loginProbe'), 'utf8')).includes(`\nRELEASE_DIR=${LOGIN_RELEASE_DIR}\n`), 'the login probe waits on the folder the finish script opens');
  t.true((await text('pinServer')).includes(`\nmark='${PIN_MARK}'\n`));
  t.true((await text('podRoutes')).includes(`\nroutes=\${1:-${POD_ROUTES_FILE}}\n`));
  const unit = entries.find((e) => e.path === '/etc/systemd/system/pikube-pod-routes.service');
  t.regex(unit?.type === 'file' && unit.content.kind === 'text' ? unit.content.text : '', new RegExp(`^ExecStart=${POD_ROUTES_SCRIPT} ${POD_ROUTES_FILE}$`, 'm'));
});
