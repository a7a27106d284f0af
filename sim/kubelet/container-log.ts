// A container's output, one file per run (<dir>/<run>.log, as the kubelet keeps
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log), so that a restarted container's
// previous output stays apart from the current one. Lines are kept in the CRI log format
// (`<RFC3339Nano time> <stream> <F|P> <text>`, P for a piece of a line not yet ended), which
// is what lets `kubectl logs --timestamps` and `--since` work. As the kubelet's
// containerLogMaxSize, a file is rotated when it would pass 10 MiB: it becomes <run>.log.1
// (replacing the one before) and `kubectl logs` reads the new one. Only the current and the
// previous run are kept. Readers are in ./container-log-reader.ts.
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export type LogStream = 'stdout' | 'stderr';

/** One line of a CRI log file. */
export interface CriLogEntry {
  time: string;
  stream: LogStream;
  /** A piece of a line whose end comes in a later entry. */
  partial: boolean;
  text: string;
}

/** The kubelet's default containerLogMaxSize. */
export const MAX_LOG_FILE_BYTES = 10 * 1024 * 1024;

/** Go's RFC3339Nano: fractional seconds without trailing zeros. */
function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/**
 * One run of a container: its output file, growing until the process's streams close. Appends
 * are synchronous, so `size` is always at an entry boundary; each append, rotation and the end
 * emit 'change', which is what followers wait on.
 */
export class LogInstance extends EventEmitter {
  private fd: number | undefined;
  /** Bytes in the current file. */
  size = 0;
  /** Rotations so far: a reader of an older file reads it to its end, then the current one. */
  generation = 0;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(readonly path: string, private readonly maxBytes = MAX_LOG_FILE_BYTES) {
    super();
    this.setMaxListeners(0); // one per follower
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
    const entries: CriLogEntry[] = pieces.map((text) => ({ time, stream, partial: false, text }));
    if (rest) entries.push({ time, stream, partial: true, text: rest });
    if (entries.length === 0) return;
    const bytes = Buffer.from(entries.map((r) => `${r.time} ${r.stream} ${r.partial ? 'P' : 'F'} ${r.text}\n`).join(''));
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
    this.emit('change');
  }

  end(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.emit('change');
  }

  /** Deletes the run's files; readers that have them open read on to their end. */
  remove(): void {
    this.end();
    rmSync(this.path, { force: true });
    rmSync(`${this.path}.1`, { force: true });
  }

  private rotate(): void {
    closeSync(this.fd!);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
    this.generation += 1;
  }
}

/** All runs of one container: the current one and the one before it. */
export class ContainerLog {
  private runs = 0;
  current?: LogInstance;
  previous?: LogInstance;

  constructor(private readonly dir: string, private readonly maxFileBytes = MAX_LOG_FILE_BYTES) {}

  /** A new run for a (re)started container; the last one becomes `previous`, the one before goes. */
  start(): LogInstance {
    mkdirSync(this.dir, { recursive: true });
    this.previous?.remove();
    if (this.current) this.previous = this.current;
    this.current = new LogInstance(join(this.dir, `${this.runs++}.log`), this.maxFileBytes);
    return this.current;
  }
}
