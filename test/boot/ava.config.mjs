// The heavy boot test (`npm run test:boot`): QEMU boots, kept out of `npm test`'s file pattern (*.test.ts).
export default {
  files: ['test/boot/**/*.boot.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '30m',
  concurrency: 1,
};
