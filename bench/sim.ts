// `kubedask bench sim`: how fast the Kubernetes API emulator takes writes and fans changes
// out to watchers: objects created per second, and watch event latency (p50/p99) over
// 10,000 objects seen by 100 concurrent watches. No peer: no real API server runs here.
import { startApiServer } from '../sim/server/api-server.js';
import { percentile } from './stats.js';

export interface SimBenchOptions {
  objects: number;
  watches: number;
  /** Creates in flight at once. */
  concurrency: number;
}

/** One watch on the namespace's ConfigMaps; records when each object's ADDED arrived. */
async function watch(url: string, seen: Map<string, number>[], signal: AbortSignal, ready: () => void): Promise<void> {
  const arrivals = new Map<string, number>();
  seen.push(arrivals);
  const res = await fetch(`${url}/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=0`, { signal });
  ready();
  let buffer = '';
  try {
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(piece).toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        // Only the name is needed: find it without parsing the whole event.
        const m = /"name":"(cm-\d+)"/.exec(line);
        if (m && line.startsWith('{"type":"ADDED"')) arrivals.set(m[1]!, performance.now());
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

export async function simBench(opts: SimBenchOptions) {
  const api = await startApiServer({ watchHistory: opts.objects + 100 });
  const abort = new AbortController();
  const seen: Map<string, number>[] = [];
  try {
    await fetch(`${api.url}/api/v1/namespaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }) });
    let connected = 0;
    const watching = Array.from({ length: opts.watches }, () => watch(api.url, seen, abort.signal, () => connected++));
    while (connected < opts.watches) await new Promise((r) => setTimeout(r, 5));

    const sentAt = new Map<string, number>();
    let next = 0;
    const t0 = performance.now();
    const creator = async () => {
      while (next < opts.objects) {
        const name = `cm-${next++}`;
        sentAt.set(name, performance.now());
        const res = await fetch(`${api.url}/api/v1/namespaces/bench/configmaps`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'sim' } }, data: { value: name } }),
        });
        if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, creator));
    const createSeconds = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 120_000;
    while (seen.some((m) => m.size < opts.objects) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const latencies: number[] = [];
    let missing = 0;
    for (const arrivals of seen) {
      for (const [name, sent] of sentAt) {
        const at = arrivals.get(name);
        if (at === undefined) missing++;
        else latencies.push(at - sent);
      }
    }
    abort.abort();
    await Promise.allSettled(watching);
    latencies.sort((a, b) => a - b);
    return {
      bench: 'sim', node: process.version, objects: opts.objects, watches: opts.watches, concurrency: opts.concurrency,
      creates_per_s: opts.objects / createSeconds,
      watch_latency_ms: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? 0 },
      events_delivered: latencies.length, events_missing: missing,
    };
  } finally {
    abort.abort();
    await api.close();
  }
}
