import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors.ts';
import { readLocalFile, type LocalFile } from './local-inputs.ts';

// pikube's own shell scripts, by what they do, as files under the package's overlay/ folder: static files, read and
// hashed like any other input, so the plan names their digests and the card gets them byte for byte.
export const OVERLAY_SCRIPT_FILES = {
  firstBoot: 'firstboot/pikube-firstboot.sh',
  bootTestFinish: 'firstboot/boot-test-finish.sh',
  pinServer: 'k3s/pin-server.sh',
  podRoutes: 'static/pod-routes.sh',
  keepHostKeys: 'identity/keep-host-keys.sh',
} as const;

// Each card script read and hashed, by name: what gathering hands the plan.
export type OverlayScripts = Record<keyof typeof OVERLAY_SCRIPT_FILES, LocalFile>;

// The one script under overlay/ that no card holds: `pikube boot-test` runs it over SSH on the booted copy.
export const LOGIN_PROBE_FILE = 'boot-test/login-probe.sh';

// The package's overlay/ folder, the same from src/ (tsx) and from the compiled dist/.
export const OVERLAY_DIR = fileURLToPath(new URL('../../overlay/', import.meta.url));

// The host path of one of pikube's card scripts, or of the login probe.
export function locateOverlayScript(name: keyof typeof OVERLAY_SCRIPT_FILES | 'loginProbe'): string {
  return `${OVERLAY_DIR}${name === 'loginProbe' ? LOGIN_PROBE_FILE : OVERLAY_SCRIPT_FILES[name]}`;
}

// Reads and hashes every pikube script once per build, before planning; a missing one is a broken install.
export async function readOverlayScripts(): Promise<OverlayScripts> {
  const names = Object.keys(OVERLAY_SCRIPT_FILES) as Array<keyof typeof OVERLAY_SCRIPT_FILES>;
  const files = await Promise.all(names.map((name) => readLocalFile(locateOverlayScript(name), 'pikube script').catch((error: unknown) => {
    throw new InternalError(`pikube's own ${OVERLAY_SCRIPT_FILES[name]} cannot be read from ${OVERLAY_DIR}: reinstall pikube`, { cause: error });
  })));
  return Object.fromEntries(names.map((name, i) => [name, files[i]])) as OverlayScripts;
}
