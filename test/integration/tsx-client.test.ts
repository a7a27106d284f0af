// A client written in TypeScript and run with tsx, as most people run TypeScript: esbuild wraps
// named inner functions in __name(...) calls, and those functions must still run on workers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { within } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const index = pathToFileURL(join(root, 'dist', 'index.js')).href;

const client = `
import { Client, LocalCluster } from ${JSON.stringify(index)};
const task = (n: number) => {
  function double(x: number) { return x * 2; }
  const triple = function triple(x: number) { return x * 3; };
  return double(n) + triple(n);
};
const cluster = await new LocalCluster({ workers: 1, threads: 1, dashboardPort: -1 }).started();
const client = await Client.connect(cluster);
try {
  const result = await client.submit(task, 2).result();
  console.log(JSON.stringify({ result, wrapped: task.toString().includes('__name(') }));
} finally {
  await client.close();
  await cluster.close();
}
`;

describe('a client run with tsx', () => {
  it('runs tasks whose inner functions esbuild wrapped in __name()', { timeout: 90_000 }, async () => {
    // .mts: an ES module whatever package.json is near it, so top-level await works.
    const file = join(mkdtempSync(join(tmpdir(), 'tsx-client-')), 'client.mts');
    writeFileSync(file, client);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b; });
    child.stderr.on('data', (b: Buffer) => { stderr += b; });
    const code = await within(new Promise<number | null>((resolve) => child.on('exit', resolve)), 'the tsx client to exit', 60_000);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { result: 10, wrapped: true });
  });
});
