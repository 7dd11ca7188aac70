import type { Recipe } from '../config/schema.ts';
import { makeTextEntry } from './entries.ts';
import type { ImageFacts, PlanEntry } from './types.ts';

// Kernel flags Kubernetes needs on a Pi: the memory cgroup is off by default (and since the 6.12 kernels disabled
// by the device tree), cpuset is needed by the kubelet on older kernels.
export const CGROUP_FLAGS = ['cgroup_enable=cpuset', 'cgroup_enable=memory', 'cgroup_memory=1'];

// Appends each flag the one line of cmdline.txt lacks, so a second build over a built image adds nothing.
export function appendKernelFlags(cmdline: string, flags: readonly string[]): string {
  const words = cmdline.trim().split(/\s+/).filter(Boolean);
  return [...words, ...flags.filter((flag) => !words.includes(flag))].join(' ');
}

const REGDOM = 'cfg80211.ieee80211_regdom';

// The one line of cmdline.txt, written once for everything that needs a kernel flag: the Wi-Fi country as
// raspi-config's do_wifi_country sets it (one cfg80211.ieee80211_regdom=XX; Raspberry Pi Imager appends the
// same), and the cgroup flags a Kubernetes profile needs.
export function planCmdline(recipe: Recipe, facts: ImageFacts): PlanEntry[] {
  if (facts.cmdline === undefined || (!recipe.wifi && !recipe.kubernetes)) return [];
  let line = facts.cmdline;
  const origins: string[] = [];
  if (recipe.wifi) {
    line = setRegulatoryDomain(line, recipe.wifi.country);
    origins.push('recipe wifi.country');
  }
  if (recipe.kubernetes) {
    line = appendKernelFlags(line, CGROUP_FLAGS);
    origins.push('kubernetes host fixes');
  }
  return [makeTextEntry('boot', '/cmdline.txt', `${line}\n`, 0o644, origins.join(', '))];
}

// raspi-config removes every earlier regdom word and appends the new one; replacing the first in place gives the
// same kernel setting and leaves a rebuilt card's line unchanged.
function setRegulatoryDomain(line: string, country: string): string {
  const flag = `${REGDOM}=${country}`;
  const words = line.trim().split(/\s+/).filter(Boolean);
  const at = words.findIndex((word) => word.startsWith(`${REGDOM}=`));
  if (at < 0) return [...words, flag].join(' ');
  return words.flatMap((word, i) => (i === at ? [flag] : word.startsWith(`${REGDOM}=`) ? [] : [word])).join(' ');
}
