export { serveStandInK3s as serveK3sRelease, type StandInRelease as FakeRelease } from '../../examples/demo/stand-in-k3s.ts';
