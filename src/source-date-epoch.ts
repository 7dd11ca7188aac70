// SOURCE_DATE_EPOCH as every part of a build reads it (the build clock, libext2fs, mtools, image tarballs): whole
// seconds, or undefined when unset or not a number, so one odd value cannot make some parts reproducible and not others.
export function readSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.SOURCE_DATE_EPOCH;
  return value !== undefined && /^\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
}
