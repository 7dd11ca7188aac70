import type { Recipe } from '../config/schema.ts';
import { appendKernelFlags, CGROUP_FLAGS } from '../kube/pi-fixes.ts';
import { makeTextEntry } from './entries.ts';
import type { ImageFacts, PlanEntry } from './types.ts';

const REGDOM = 'cfg80211.ieee80211_regdom';

// The one line of cmdline.txt, written once for everything that needs a kernel flag: the Wi-Fi country as
// raspi-config's do_wifi_country sets it (any earlier cfg80211.ieee80211_regdom= removed, the new one appended;
// Raspberry Pi Imager appends the same), and the cgroup flags a Kubernetes profile needs.
export function planCmdline(recipe: Recipe, facts: ImageFacts): PlanEntry[] {
  if (facts.cmdline === undefined || (!recipe.wifi && !recipe.kubernetes)) return [];
  let line = facts.cmdline;
  const origins: string[] = [];
  if (recipe.wifi) {
    line = appendKernelFlags(line.split(/\s+/).filter((word) => !word.startsWith(`${REGDOM}=`)).join(' '), [`${REGDOM}=${recipe.wifi.country}`]);
    origins.push('recipe wifi.country');
  }
  if (recipe.kubernetes) {
    line = appendKernelFlags(line, CGROUP_FLAGS);
    origins.push('kubernetes host fixes');
  }
  return [makeTextEntry('boot', '/cmdline.txt', `${line}\n`, 0o644, origins.join(', '))];
}
