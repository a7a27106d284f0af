// A container's output, one file per instance (<dir>/<instance>.log, as the kubelet keeps
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log), so that a restarted container's
// previous output stays apart from the current one. Appends are synchronous, so a follower
// that reads the file and subscribes in the same turn misses and repeats nothing.
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One run of a container: its output file, growing until the process's streams close. */
export class LogInstance extends EventEmitter {
  private fd: number | undefined;
  private size = 0;

  constructor(readonly path: string) {
    super();
    this.fd = openSync(path, 'a');
  }

  get ended(): boolean {
    return this.fd === undefined;
  }

  append(chunk: Buffer): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, chunk);
    this.size += chunk.length;
    this.emit('data', chunk);
  }

  end(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.emit('end');
  }

  /** What was written so far. */
  contents(): Buffer {
    return readFileSync(this.path).subarray(0, this.size);
  }
}

/** All instances of one container: the current one and the one before it. */
export class ContainerLog {
  private instances = 0;
  current?: LogInstance;
  previous?: LogInstance;

  constructor(private readonly dir: string) {}

  /** A new instance for a (re)started container; the last one becomes `previous`. */
  start(): LogInstance {
    mkdirSync(this.dir, { recursive: true });
    if (this.current) this.previous = this.current;
    this.current = new LogInstance(join(this.dir, `${this.instances++}.log`));
    return this.current;
  }
}

/** The last `n` lines of `buf` (a final line without a newline counts). */
export function lastLines(buf: Buffer, n: number): Buffer {
  if (n <= 0) return buf.subarray(buf.length);
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end -= 1;
  let at = end;
  for (let seen = 0; seen < n; seen++) {
    // (a negative offset would search from the end, so the start of the buffer stops here)
    const nl = at > 0 ? buf.lastIndexOf(0x0a, at - 1) : -1;
    if (nl < 0) return buf;
    at = nl;
  }
  return buf.subarray(at + 1);
}
