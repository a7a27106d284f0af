// One live line on a terminal while the main job fits and searches: tasks done since it began,
// tasks running and their groups, polled from the scheduler's history. Nothing off a terminal.
import type { Client } from '../client.js';
import type { ProgressStream } from '../progress.js';

const POLL_MS = 500;

/** Starts the line; stop() clears it and waits for the last poll to end. */
export function liveStatus(client: Client, stream: ProgressStream = process.stdout): { stop(): Promise<void> } {
  if (!stream.isTTY) return { stop: async () => {} };
  const t0 = performance.now();
  let baseline: number | undefined;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      // A delta of (nearly) nothing but the groups' current progress: cheap to ask twice a second.
      const history = await client.history({ cursor: Number.MAX_SAFE_INTEGER, lanes: Number.MAX_SAFE_INTEGER, groups: Number.MAX_SAFE_INTEGER, since: Date.now(), maxEntries: 1 }).catch(() => undefined);
      if (history && 'progress' in history && !stopped) {
        const done = history.progress.reduce((n, g) => n + g.done, 0);
        baseline ??= done;
        const running = history.progress.filter((g) => g.processing > 0).sort((a, b) => b.processing - a.processing);
        const groups = running.slice(0, 3).map((g) => `${g.group} ${g.processing}`).join(', ');
        const line = `  ${((performance.now() - t0) / 1000).toFixed(1)}s: ${(done - baseline).toLocaleString('en-US')} tasks done${groups ? `, running ${groups}` : ''}`;
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 100) - 1)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const running = poll();
  return {
    stop: async () => {
      stopped = true;
      await running;
      stream.write('\r\x1b[2K');
    },
  };
}
