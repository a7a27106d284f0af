// A container's output, one file per run (<dir>/<run>.log, as the kubelet keeps
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log), so that a restarted container's
// previous output stays apart from the current one. Lines are kept in the CRI log format
// (`<RFC3339Nano time> <stream> <F|P> <text>`, P for a piece of a line not yet ended), which
// is what lets `kubectl logs --timestamps` and `--since` work. Appends are synchronous, so a
// follower that reads the file and subscribes in the same turn misses and repeats nothing.
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  time: string;
  stream: LogStream;
  /** A piece of a line whose end comes in a later record. */
  partial: boolean;
  text: string;
}

/** Go's RFC3339Nano: fractional seconds without trailing zeros. */
function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

function parseRecord(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  return m ? { time: m[1]!, stream: m[2] as LogStream, partial: m[3] === 'P', text: m[4]! } : undefined;
}

/** One run of a container: its output file, growing until the process's streams close. */
export class LogInstance extends EventEmitter {
  private fd: number | undefined;
  private size = 0;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(readonly path: string) {
    super();
    this.fd = openSync(path, 'a');
  }

  get ended(): boolean {
    return this.fd === undefined;
  }

  append(stream: LogStream, chunk: Buffer): void {
    if (this.fd === undefined) return;
    const time = rfc3339Nano(new Date());
    const pieces = this.decoders[stream].write(chunk).split('\n');
    const rest = pieces.pop()!;
    const records: LogRecord[] = pieces.map((text) => ({ time, stream, partial: false, text }));
    if (rest) records.push({ time, stream, partial: true, text: rest });
    if (records.length === 0) return;
    const bytes = Buffer.from(records.map((r) => `${r.time} ${r.stream} ${r.partial ? 'P' : 'F'} ${r.text}\n`).join(''));
    writeSync(this.fd, bytes);
    this.size += bytes.length;
    this.emit('records', records);
  }

  end(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.emit('end');
  }

  /** What was written so far. */
  records(): LogRecord[] {
    const text = readFileSync(this.path).subarray(0, this.size).toString('utf8');
    return text.split('\n').flatMap((line) => parseRecord(line) ?? []);
  }
}

/** All runs of one container: the current one and the one before it. */
export class ContainerLog {
  private runs = 0;
  current?: LogInstance;
  previous?: LogInstance;

  constructor(private readonly dir: string) {}

  /** A new run for a (re)started container; the last one becomes `previous`. */
  start(): LogInstance {
    mkdirSync(this.dir, { recursive: true });
    if (this.current) this.previous = this.current;
    this.current = new LogInstance(join(this.dir, `${this.runs++}.log`));
    return this.current;
  }
}

/** The records of the last `n` lines (a line being its partial pieces and the piece that ends it). */
export function lastLines(records: LogRecord[], n: number): LogRecord[] {
  const starts = records.flatMap((_r, i) => (i === 0 || !records[i - 1]!.partial ? [i] : []));
  if (n <= 0) return [];
  return n >= starts.length ? records : records.slice(starts[starts.length - n]);
}
