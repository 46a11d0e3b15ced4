// Loaded into the hub's process by `bench/ingest.ts --profile` (NODE_OPTIONS=--import=...): the
// first SIGWINCH starts a CPU profile, the next writes it to INGEST_PROFILE_FILE (Chrome DevTools'
// .cpuprofile). Only the load steps and the drain after them are profiled, not start-up or the
// connection storm. (Node 20 refuses `--cpu-prof` in NODE_OPTIONS, and spawnHub passes no node
// flags; --import is allowed.)
// SIGWINCH because Nest's enableShutdownHooks() shuts the hub down on SIGUSR2 (and SIGUSR1 opens
// node's inspector); its default action is to ignore, and the hub's stdout is not a terminal.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const file = process.env.INGEST_PROFILE_FILE;
let session: Session | null = null;

async function toggle(): Promise<void> {
  if (session === null) {
    const started = new Session();
    started.connect();
    await started.post('Profiler.enable');
    await started.post('Profiler.setSamplingInterval', { interval: 500 });
    await started.post('Profiler.start');
    session = started;
    return;
  }
  const running = session;
  session = null;
  try {
    const { profile } = await running.post('Profiler.stop');
    writeFileSync(file!, JSON.stringify(profile));
  } finally {
    running.disconnect();
  }
}

if (file) {
  process.on('SIGWINCH', () => {
    toggle().catch((error: unknown) => console.error(`ingest-profiler: ${String(error)}`));
  });
}
