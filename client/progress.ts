// progress(): live bars per task group in the terminal while futures compute, as
// dask.distributed's progress(). It polls Client.progressOf, draws with progress-render.ts and
// redraws in place with ANSI cursor moves; on a stream that is not a terminal it draws nothing.
import { KubedaskError } from '../protocol/errors.js';
import { Client } from './client.js';
import { Future } from './future.js';
import type { KeysProgress, TaskGroupProgress } from './progress-types.js';
import { renderBars, renderSummary } from './progress-render.js';

/** Where bars go: process.stdout, or anything shaped like it (a test's fake terminal). */
export interface ProgressStream {
  write(text: string): unknown;
  /** Bars are drawn live only on a terminal. */
  isTTY?: boolean;
  columns?: number;
  /** A tty.WriteStream's: whether it shows colours (honours NO_COLOR and FORCE_COLOR). */
  hasColors?(): boolean;
}

export interface ProgressOptions {
  /** The client to ask; the default client (Client.current()) otherwise. */
  client?: Client;
  /** Default process.stdout. */
  stream?: ProgressStream;
  /** Shortest time between polls of the scheduler, ms (default 100); a big graph polls less often. */
  intervalMs?: number;
  /**
   * true: draw nothing. false: draw even when the stream is not a terminal (then only the final
   * bars and summary, no redraws). Default: draw live on a terminal, nothing otherwise.
   */
  quiet?: boolean;
}

/** Implemented by what stands for futures (a persisted DataFrame): the futures to watch. */
export const progressFutures: unique symbol = Symbol.for('kubedask.progressFutures');
export interface ProgressSource {
  [progressFutures](): Future[];
}

export type ProgressTarget = Future | Iterable<Future> | ProgressSource;

/** What progress() resolves to: the last counts, once every future finished, erred or was cancelled. */
export interface ProgressResult {
  groups: TaskGroupProgress[];
  elapsedMs: number;
}

const MAX_INTERVAL_MS = 2_000;
/** A terminal redrawn more often flickers and costs more than it shows. */
const MIN_REDRAW_MS = 100;
/** Poll at most this share of the time: the walk costs the scheduler about the poll's round trip. */
const POLL_SHARE = 0.1;
/** Tasks counted per ms of poll interval: 100,000 tasks are polled every 2 s. */
const TASKS_PER_MS = 50;
const UP = (n: number) => `\x1b[${n}A`;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * Draws a bar per task group of what the futures need, live, until every future has finished,
 * erred or been cancelled; then the final bars and a summary line. Resolves (never rejects for
 * a task's failure: await the futures for their results or errors) with the last counts.
 * `target`: a Future, futures, or a persisted DataFrame (`progress(df.persist())`).
 */
export async function progress(target: ProgressTarget, options: ProgressOptions = {}): Promise<ProgressResult> {
  const futures = futuresOf(target);
  const client = options.client ?? Client.current();
  const stream = options.stream ?? process.stdout;
  const intervalMs = checkProgressOptions(options);
  const live = options.quiet !== true && stream.isTTY === true;
  const drawAtEnd = live || options.quiet === false;
  const keys = [...new Set(futures.map((f) => f.key))];
  const started = performance.now();
  const view = new GroupView();
  const screen = new Screen(stream);

  let settled = false;
  const allSettled = Promise.all(futures.map((f) => f.wait().catch(() => undefined))).then(() => { settled = true; });
  let drawnAt = -Infinity;
  while (live && !settled) {
    const asked = performance.now();
    const counts = await client.progressOf(keys).catch(() => undefined);
    if (!counts) break; // the futures fail too (client closed, scheduler gone): stop polling
    view.update(counts);
    const now = performance.now();
    if (now - drawnAt >= MIN_REDRAW_MS) {
      screen.draw(renderBars(view.groups(), layout(stream)));
      drawnAt = now;
    }
    const delay = Math.min(MAX_INTERVAL_MS, Math.max(intervalMs, (now - asked) / POLL_SHARE, view.total() / TASKS_PER_MS));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allSettled, new Promise((r) => { timer = setTimeout(r, delay); })]);
    clearTimeout(timer);
  }
  await allSettled;
  const last = await client.progressOf(keys).catch(() => undefined);
  if (last) view.update(last);
  const elapsedMs = performance.now() - started;
  if (drawAtEnd && (last || view.groups().length > 0)) { // no counts at all (the scheduler gone): no bars to show
    const { width, color } = layout(stream);
    screen.draw([...renderBars(view.groups(), { width, color }), renderSummary(view.groups(), elapsedMs, color)], live);
  }
  return { groups: view.groups(), elapsedMs };
}

/** Throws on options that cannot work; the poll interval, ms. */
export function checkProgressOptions(options: ProgressOptions): number {
  const intervalMs = options.intervalMs ?? 100;
  if (typeof intervalMs !== 'number' || !(intervalMs >= 0) || !Number.isFinite(intervalMs)) {
    throw new KubedaskError(`progress: intervalMs must be a number >= 0, got ${String(options.intervalMs)}`);
  }
  if (options.stream !== undefined && typeof options.stream?.write !== 'function') throw new KubedaskError('progress: stream must have a write(text) method');
  return intervalMs;
}

function futuresOf(target: ProgressTarget): Future[] {
  if (target instanceof Future) return [target];
  if (target !== null && typeof target === 'object' && progressFutures in target) return target[progressFutures]();
  if (target !== null && typeof target === 'object' && Symbol.iterator in target) {
    const list = [...target];
    const bad = list.findIndex((f) => !(f instanceof Future));
    if (bad >= 0) throw new KubedaskError(`progress: item ${bad} is not a Future`);
    return list;
  }
  throw new KubedaskError('progress: give a Future, futures, or a persisted DataFrame');
}

function layout(stream: ProgressStream): { width: number; color: boolean } {
  const columns = stream.columns && stream.columns > 0 ? stream.columns : 80;
  return { width: columns - 1, color: typeof stream.hasColors === 'function' && stream.hasColors() }; // - 1: no wrap at the margin
}

/** The groups in order of first appearance, each with its latest counts (kept if a poll misses it). */
class GroupView {
  private readonly byName = new Map<string, TaskGroupProgress>();

  update(counts: KeysProgress): void {
    for (const g of counts.groups) this.byName.set(g.group, g);
  }

  groups(): TaskGroupProgress[] { return [...this.byName.values()]; }

  total(): number {
    let n = 0;
    for (const g of this.byName.values()) n += g.total;
    return n;
  }
}

/** Lines drawn in place: each draw moves back up over the previous one and overwrites it. */
class Screen {
  private drawn = 0;

  constructor(private readonly stream: ProgressStream) {}

  /** `inPlace` false: printed below whatever is there (a stream that is not a terminal). */
  draw(lines: string[], inPlace = true): void {
    let out = inPlace && this.drawn > 0 ? UP(this.drawn) : '';
    for (const line of lines) out += `${inPlace ? CLEAR_LINE : ''}${line}\n`;
    // Fewer lines than last time (never in practice: groups only get added): clear the rest.
    for (let i = lines.length; inPlace && i < this.drawn; i++) out += `${CLEAR_LINE}\n`;
    if (out) this.stream.write(out);
    this.drawn = Math.max(lines.length, inPlace ? this.drawn : 0);
  }
}
