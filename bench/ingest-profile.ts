// A short text summary of a V8 CPU profile (.cpuprofile) of the hub, for bench/ingest.ts --profile.
import { readFileSync } from 'node:fs';

const count = (n: number) => Math.round(n).toLocaleString('en-US');

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Where a frame's code lives: a package, the hub, node itself, or a V8 pseudo-frame. */
function ownerOf(frame: Frame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName; // (garbage collector), (program), (idle), native
  if (url.startsWith('node:')) return 'node (internal)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/broker/dist/')) return '@sentinel/broker';
  if (url.includes('/dist/src/')) return 'hub (src/)';
  return url;
}

const frameName = (f: Frame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;

/** Self time by owner and by function, and inclusive time of the hub's and the broker's functions. */
export function summariseProfile(file: string): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)');
  const total = profile.samples.length - idle.reduce((s, [, n]) => s + n, 0);
  const add = (map: Map<string, number>, key: string, n: number) =>
    map.set(key, (map.get(key) ?? 0) + n);
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, n] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    add(owners, ownerOf(frame), n);
    add(functions, frameName(frame), n);
  }
  // Inclusive: each sample counts once per function on its stack (recursion counted once).
  const inclusive = new Map<string, number>();
  const stackCache = new Map<number, string[]>();
  const stackOf = (id: number): string[] => {
    let keys = stackCache.get(id);
    if (!keys) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const owner = ownerOf(frame);
        if (
          owner === 'hub (src/)' ||
          owner === '@sentinel/broker' ||
          owner === 'influx' ||
          owner === 'aedes'
        )
          seen.add(
            `${owner === 'hub (src/)' || owner === '@sentinel/broker' ? '' : `${owner}: `}${frameName(frame)}`,
          );
      }
      keys = [...seen];
      stackCache.set(id, keys);
    }
    return keys;
  };
  for (const [id, n] of self) for (const key of stackOf(id)) add(inclusive, key, n);
  const top = (map: Map<string, number>, k: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([key, n]) => `    ${((n / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  return [
    `hub CPU profile over the load steps and the drain: ${file} (${count(total)} busy samples of 0.5 ms; % of busy time)`,
    '  self time by owner:',
    ...top(owners, 12),
    '  self time by function:',
    ...top(functions, 20),
    '  inclusive time, hub + broker + aedes + influx functions:',
    ...top(inclusive, 25),
  ];
}
