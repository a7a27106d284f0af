// A task thread's console output (console.*, process.stdout and process.stderr writes), sent to
// the worker's main thread as log lines that carry the running task's key, where the worker
// logs them and keeps them for getWorkerLogs. Without this they would go to the thread's stdout,
// which a worker does not show.
//
// Bounded: lines go out in batches, and the characters posted but not yet taken by the main
// thread are counted in shared memory (control[2]); past MAX_PENDING_CHARS further lines are
// dropped and counted, never queued, so a task printing in a tight loop neither grows memory
// nor waits on the worker. The main thread logs how many were dropped.
import { format } from 'node:util';
import { MAX_LINE_CHARS, truncateLine } from './log-buffer.js';
import type { FromThread, ThreadLogLine } from './pool-protocol.js';

type Level = ThreadLogLine['level'];

/** Characters in flight to the main thread, at most, before lines are dropped. */
export const MAX_PENDING_CHARS = 4 * 1024 * 1024;
/** What a line costs besides its text (the object, the key): so empty lines are bounded too. */
const LINE_COST = 64;
/** A batch goes out at this many lines or characters, else FLUSH_AFTER_MS after its first line. */
const BATCH_LINES = 256;
const BATCH_CHARS = 64 * 1024;
const FLUSH_AFTER_MS = 10;
const PENDING = 2;

const CONSOLE_LEVELS: Record<string, Level> = { log: 'info', info: 'info', debug: 'debug', trace: 'debug', warn: 'warn', error: 'error' };

export class TaskOutput {
  /** The key of the task running now; '' between tasks. */
  private key = '';
  private batch: ThreadLogLine[] = [];
  private batchChars = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Text written to stdout or stderr after its last newline. */
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(private readonly post: (msg: FromThread) => void, private readonly control: Int32Array) {}

  /** Routes this thread's console and stdout/stderr writes here. */
  install(): void {
    const con = console as unknown as Record<string, (...args: unknown[]) => void>;
    for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
      con[method] = method === 'trace'
        ? (...args: unknown[]) => this.line(level, `Trace: ${format(...args)}\n${new Error().stack?.split('\n').slice(2).join('\n') ?? ''}`)
        : (...args: unknown[]) => this.line(level, format(...args));
    }
    con.dir = (obj: unknown) => this.line('info', format('%O', obj));
    this.redirect('stdout', 'info');
    this.redirect('stderr', 'error');
  }

  /** Lines printed from now on belong to `key` ('' when no task runs). */
  runs(key: string): void {
    if (key === this.key) return;
    this.endPartial('stdout', 'info');
    this.endPartial('stderr', 'error');
    this.key = key;
  }

  /** One line of output, of the running task unless `key` says otherwise. */
  line(level: Level, text: string, key = this.key): void {
    const message = truncateLine(text);
    const cost = message.length + LINE_COST;
    if (Atomics.load(this.control, PENDING) + this.batchChars + cost > MAX_PENDING_CHARS) {
      this.dropped++;
    } else {
      this.batch.push({ level, message, key });
      this.batchChars += cost;
    }
    if (this.batch.length >= BATCH_LINES || this.batchChars >= BATCH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Posts what is batched (before results, so a task's lines reach the log before its result). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0 && this.dropped === 0) return;
    Atomics.add(this.control, PENDING, this.batchChars);
    this.post({ logs: this.batch, dropped: this.dropped, chars: this.batchChars });
    this.batch = [];
    this.batchChars = 0;
    this.dropped = 0;
  }

  private redirect(stream: 'stdout' | 'stderr', level: Level): void {
    const target = process[stream] as NodeJS.WriteStream & { write: (...args: unknown[]) => boolean };
    target.write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
      const lines = (this.partial[stream] + text).split('\n');
      this.partial[stream] = lines.pop()!;
      for (const l of lines) this.line(level, l);
      if (this.partial[stream].length >= MAX_LINE_CHARS) this.endPartial(stream, level); // no newline coming: bounded too
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
  }

  private endPartial(stream: 'stdout' | 'stderr', level: Level): void {
    if (this.partial[stream] === '') return;
    const text = this.partial[stream];
    this.partial[stream] = '';
    this.line(level, text);
  }
}
