import { stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { MachineName } from '../boot-test/machines.ts';
import { UserError } from '../errors.ts';
import type { BuildSession } from '../gather/build-session.ts';
import type { ExtBackend } from '../image/backend.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { checkBuildOutputs, unpackBase } from './load-build.ts';
import { mergeAndReport, warnOnMdnsServer } from './report-kubeconfig.ts';

export interface ImageBuildOptions {
  config: string;
  // The image to write (default: the recipe's name with .img).
  output?: string;
  bootTest?: boolean;
  bootMachine?: MachineName;
  kubeconfigMerge?: boolean;
}

// A single-card recipe: OUTPUT (and OUTPUT.sha256, .bmap, .kubeconfig with Kubernetes) checked against the
// inputs, the base unpacked into a temporary copy, gathered, planned and applied, renamed into place, reported,
// and, when asked, the kubeconfig merged and the image boot-tested. Each stage is loaded when it is reached.
export async function buildImage(session: BuildSession, options: ImageBuildOptions, backend: ExtBackend): Promise<void> {
  const name = basename(options.config, extname(options.config));
  const output = resolve(options.output ?? `${name}.img`);
  if ((await stat(output).catch(() => undefined))?.isDirectory()) {
    throw new UserError(`${output} is a folder, and this recipe builds one image file`, `name the image file: -o ${join(options.output ?? output, `${name}.img`)} (a folder is the output of a \`cluster:\` recipe)`);
  }
  await checkBuildOutputs(session, ['', '.sha256', '.bmap', '.kubeconfig'].map((suffix) => ({ path: `${output}${suffix}`, role: suffix ? `the output's ${suffix} file` : 'the output (-o)' })));
  const [{ withBuildOutput }, { gatherAndPlanBuild }, { applyPlan }] = await Promise.all([import('./build-output.ts'), import('./plan-card.ts'), import('../image/apply-plan.ts')]);
  const built = await withBuildOutput(output, async ({ image, dir }) => {
    log.step(`writing the base image (${session.baseName})`);
    await unpackBase(session, image, runSignal);
    const { plan, kubeconfig } = await gatherAndPlanBuild(session, image, dir);
    await applyPlan(plan, image, backend, runSignal);
    return kubeconfig === undefined ? {} : { kubeconfig };
  }, runSignal);
  log.info(`built ${built.image} (${(built.size / 2 ** 20).toFixed(0)} MiB, sha256 ${built.sha256})`);
  if (built.kubeconfig) {
    log.info(`kubeconfig for this node: ${built.kubeconfig} (kubectl --kubeconfig ${built.kubeconfig} get nodes, once the Pi is up)`);
    await warnOnMdnsServer(built.kubeconfig);
  }
  if (options.kubeconfigMerge) {
    if (!built.kubeconfig) throw new UserError('--kubeconfig-merge needs a Kubernetes node: this recipe has no `kubernetes:`', 'leave the flag out, or add `kubernetes:` and `hostname:` to the recipe');
    await mergeAndReport(built.kubeconfig, session.loaded.recipe.hostname ?? basename(output, extname(output)));
  }
  process.stdout.write(`${built.image}\n`);
  if (options.bootTest) {
    log.step('boot test');
    const { bootAndReport } = await import('../boot-test/boot-and-report.ts');
    await bootAndReport({ image: built.image, ...(options.bootMachine ? { machine: options.bootMachine } : {}), timeoutSeconds: 600, nodeWaitSeconds: 60, signal: runSignal });
  }
}
