// The README's first example runs as written (types stripped) and prints what it says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('README', () => {
  it('the first TypeScript example prints the result its comment promises', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'README has a ```ts example');
    const promised = /console\.log\(.*\); \/\/ (.+)$/m.exec(example)![1]!;
    const js = ts.transpileModule(example, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      .replace(`from 'kubedask'`, `from '${pathToFileURL(join(root, 'dist', 'index.js')).href}'`);
    const file = join(mkdtempSync(join(tmpdir(), 'kubedask-readme-')), 'example.mjs');
    writeFileSync(file, js);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), promised.trim());
  });
});
