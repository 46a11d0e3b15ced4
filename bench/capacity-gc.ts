// Loaded into the hub's process by bench/capacity.ts (NODE_OPTIONS=--expose-gc --import=...): on
// SIGWINCH a full garbage collection, so that the heap and RSS read next are what the hub keeps,
// not what it has not collected yet. SIGWINCH for the reason bench/ingest-profiler.ts gives (Nest
// shuts the hub down on SIGUSR2; its default action is to ignore it).
const collect = (globalThis as { gc?: () => void }).gc;

if (collect) {
  process.on('SIGWINCH', () => {
    collect();
    collect();
  });
}
