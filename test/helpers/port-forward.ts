// A running `kubectl port-forward`, as a person starts it: it resolves once kubectl prints its
// "Forwarding from" line, which names the local port.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { kubeTools } from './kube-tools.js';
import { waitUntil } from './wait.js';

export interface PortForward {
  port: number;
  stdout(): string;
  stderr(): string;
  exited(): boolean;
  /** Stops kubectl (SIGINT unless told) and resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function kubectlPortForward(kubeconfig: string, args: string[], env: Record<string, string> = {}): Promise<PortForward> {
  const child: ChildProcess = spawn(kubeTools().kubectl, ['port-forward', ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir(), ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    if (exitCode === undefined) child.kill(signal);
    return exited;
  };
  try {
    const port = await waitUntil(() => {
      if (exitCode !== undefined) throw new Error(`kubectl port-forward exited (${exitCode}): ${stderr}`);
      return Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1] ?? 0);
    }, `kubectl port-forward ${args.join(' ')} to print "Forwarding from"`, 30_000);
    return { port, stdout: () => stdout, stderr: () => stderr, exited: () => exitCode !== undefined, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
