// What a worker loads with its built-in kernels: none of the client's modules. The ml family
// once reached the client's DataFrame stack through one import (~120-150 ms of a fresh
// worker's first ml task, and its memory).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** The compiled tree (this file is dist/test/unit/). */
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every module `entry` imports at run time (type-only imports are gone from the JavaScript; dynamic ones count), by relative specifier, transitively. */
function runtimeImports(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [resolve(dist, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|(?:^|\n)\s*import\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g;
    for (const m of source.matchAll(specifiers)) stack.push(resolve(dirname(file), m[1] ?? m[2] ?? m[3]!));
  }
  return [...seen].map((f) => relative(dist, f));
}

describe('what a worker loads', () => {
  // The worker's main thread (its built-in kernel families, imported as they are first used) and its task threads.
  for (const entry of ['worker/runtime/worker.js', 'worker/runtime/task-thread.js']) {
    it(`${entry} imports none of the client's modules`, () => {
      const imports = runtimeImports(entry);
      if (entry === 'worker/runtime/worker.js') {
        for (const family of ['dataframe/kernels/index.js', 'ml/core/worker-kernels.js', 'ml/onnx/kernels.js']) assert.ok(imports.includes(family), `the walk reached ${family}`);
      }
      assert.deepEqual(imports.filter((f) => /^(client\/|dataframe\/(execute|frame)\.js$)/.test(f)), []);
    });
  }
});
