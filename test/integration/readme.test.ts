// The README's TypeScript examples that promise an output (`console.log(...); // output`) run
// as written (types stripped) and print it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const promising = examples.filter((example) => /console\.log\(.*\); \/\/ .+$/m.test(example));

/** Runs an example from the repository's root (its relative paths and packages resolve there); its stdout. */
function run(example: string): { status: number | null; stdout: string; stderr: string } {
  const js = ts.transpileModule(example, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    .replace(`from 'kubedask'`, `from '${pathToFileURL(join(root, 'dist', 'index.js')).href}'`);
  // Under dist/, so that its other imports (nodejs-polars) resolve from the repository's node_modules.
  const dir = mkdtempSync(join(root, 'dist', 'readme-example-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, js);
    return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000, cwd: root });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README', () => {
  it('has the client example first and the DataFrame example, both promising their output', () => {
    assert.ok(examples.length > 0, 'README has a ```ts example');
    assert.equal(promising[0], examples[0], 'the first example promises its output');
    assert.ok(promising.some((example) => example.includes('readParquet(')), 'the DataFrame example promises its output');
  });

  for (const [i, example] of promising.entries()) {
    it(`example ${i + 1} (${/^import .*$/m.exec(example)?.[0] ?? 'no import'}) prints the result its comment promises`, () => {
      const promised = [...example.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => m[1]!.trim());
      const result = run(example);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split('\n').map((line) => line.trim()), promised);
    });
  }
});
