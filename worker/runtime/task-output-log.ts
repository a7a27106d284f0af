// Where a worker puts its tasks' console output: into its recent lines (getWorkerLogs) always,
// whatever the worker's log level, since what a task prints is the user's data; and into the
// worker's log (`log`, which keeps nothing itself) when it passes the level there.
import type { Logger } from '../../protocol/log.js';
import { lineOfRecord, type LogBuffer } from './log-buffer.js';
import type { ThreadLogLine } from './pool-protocol.js';

export const DROPPED_WARNING = 'task output dropped: printed faster than the worker could log it';

export function keepTaskOutput(recent: LogBuffer, log: Logger, thread: number, lines: ThreadLogLine[], dropped: number): void {
  const time = Date.now();
  for (const line of lines) {
    recent.push({ time, level: line.level, message: line.message, key: line.key });
    log[line.level](line.message, line.key ? { key: line.key, thread } : { thread });
  }
  if (dropped === 0) return;
  recent.push(lineOfRecord({ time, level: 'warn', msg: DROPPED_WARNING, fields: { thread, dropped } }));
  log.warn(DROPPED_WARNING, { thread, dropped });
}
