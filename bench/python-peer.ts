// Runs a bench's Python peer script: its last stdout line is its JSON answer. Never rejects: a
// Python that is missing or fails comes back as { error } saying why, for the bench to report.
import { spawn } from 'node:child_process';

export function runPythonPeer<T extends { error?: string }>(python: string, script: string, args: string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve) => {
    const child = spawn(python, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-2000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); resolve({ error: `cannot run ${python}: ${err.message}` } as T); });
    child.once('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        resolve({ error: `${python} ${script} failed (exit ${code}): ${(stderr || last).trim().split('\n').slice(-3).join(' ')}` } as T);
      }
    });
  });
}
