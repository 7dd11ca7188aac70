// One challenge from a WWW-Authenticate header: its scheme and parameters.
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

// Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"` (several challenges allowed).
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const pattern = /\s*([A-Za-z][\w-]*)(?:\s+|$)|\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let current: Challenge | undefined;
  let index = 0;
  while (index < header.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(header);
    if (!match || match[0].length === 0) {
      index += 1;
      continue;
    }
    index = pattern.lastIndex;
    if (match[1] && !match[2]) {
      current = { scheme: match[1].toLowerCase(), params: {} };
      challenges.push(current);
    } else if (match[2] && current) {
      current.params[match[2].toLowerCase()] = match[3] !== undefined ? match[3].replace(/\\(.)/g, '$1') : (match[4] ?? '');
    }
  }
  return challenges;
}
