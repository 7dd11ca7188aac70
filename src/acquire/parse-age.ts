import { UserError } from '../errors.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

// "30d", "12h", "2w", "90m", or a bare number of days -> the moment that long before now.
export function parseAge(text: string, now = Date.now()): Date {
  const match = /^(\d+(?:\.\d+)?)\s*([mhdw]?)$/i.exec(text.trim());
  if (!match?.[1]) throw new UserError(`cannot read the age "${text}"`, 'write it like 30d, 12h, 2w or 90m (a bare number means days)');
  const unit = UNITS[(match[2] || 'd').toLowerCase()] ?? UNITS.d!;
  return new Date(now - Number(match[1]) * unit);
}
