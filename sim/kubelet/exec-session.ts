// One `kubectl exec` over the Kubernetes WebSocket stream protocol (v5 and v4.channel.k8s.io):
// each binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 status, 4
// resize; v5 adds 255 = close a channel). The command runs as a local process with the
// container's environment; channel 3 gets a Status whose ExitCode cause carries its exit code,
// which is how kubectl exits with the command's code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import { WebSocketSender } from '../server/websocket-sender.js';
import { containerArgv } from './container-command.js';
import type { ExecContext } from './pod-runner.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface ExecOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

/** exec runs the command as given: `$` is doubled so containerArgv's $(VAR) expansion leaves it be. */
export function execArgv(ctx: ExecContext, command: string[]): string[] {
  return containerArgv({ ...ctx.spec, command: command.map((s) => s.replace(/\$/g, '$$$$')), args: [] }, ctx.env, []);
}

export function runExecSession(ws: WebSocket, ctx: ExecContext, opts: ExecOptions): void {
  const argv = execArgv(ctx, opts.command);
  const sender = new WebSocketSender(ws);
  /** False when the client is behind: the output waits for sender.onceDrained. */
  const send = (channel: number, data: Buffer | string): boolean => sender.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  const finish = (status: Record<string, unknown>): void => {
    send(STATUS, JSON.stringify({ metadata: {}, ...status }));
    ws.close(1000);
  };
  const child = spawn(argv[0]!, argv.slice(1), {
    env: ctx.env, cwd: ctx.spec.workingDir,
    stdio: [opts.stdin ? 'pipe' : 'ignore', opts.stdout ? 'pipe' : 'ignore', opts.stderr || opts.tty ? 'pipe' : 'ignore'],
  });
  /** The command's output, paused while the client is behind, so a slow client slows the command. */
  const forward = (from: Readable | null, channel: number): void => {
    from?.on('data', (b: Buffer) => {
      if (send(channel, b)) return;
      from.pause();
      sender.onceDrained(() => from.resume());
    });
  };
  forward(child.stdout, STDOUT);
  // A TTY has one output stream.
  forward(child.stderr, opts.tty ? STDOUT : STDERR);
  child.stdin?.on('error', () => undefined); // the command may exit without reading its input
  let failed = false;
  child.once('error', (err: NodeJS.ErrnoException) => {
    failed = true;
    // In runc's words, which a user searching for the message will find.
    const why = err.code === 'ENOENT' ? 'executable file not found in $PATH' : err.message;
    finish({
      status: 'Failure', code: 500, reason: 'InternalError',
      message: `Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0]}": ${why}: unknown`,
    });
  });
  child.once('close', (code, signal) => {
    if (failed) return;
    const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
    if (exitCode === 0) return finish({ status: 'Success' });
    finish({
      status: 'Failure', reason: 'NonZeroExitCode',
      message: `command terminated with non-zero exit code: error executing command [${opts.command.join(' ')}], exit code ${exitCode}`,
      details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
    });
  });
  /** Input for the command; while it reads slowly, the client's input waits. */
  const toCommand = (bytes: Buffer): void => {
    const stdin = child.stdin;
    if (!stdin || stdin.destroyed || stdin.write(bytes)) return;
    ws.pause();
    const go = (): void => { stdin.off('drain', go); stdin.off('close', go); ws.resume(); };
    stdin.once('drain', go);
    stdin.once('close', go);
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    if (channel === STDIN) toCommand(data.subarray(1));
    else if (channel === CLOSE && data[1] === STDIN) child.stdin?.end();
    // 4 (resize) means nothing without a terminal.
  });
  ws.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}
