#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js) with Node's test runner, plus the checks
// that protocol/generated matches proto/ (and the CRDs, and the WebAssembly module its C source). Pass paths or a --test-name-pattern to narrow.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const drift = spawnSync(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), '--check'], { stdio: 'inherit' });
if (drift.status !== 0) process.exit(drift.status ?? 1);
if (spawnSync(process.execPath, [join(root, 'scripts', 'gen-crds.mjs'), '--check'], { stdio: 'inherit' }).status !== 0) process.exit(1);
// The committed WebAssembly module against its C source, where clang, wasm-ld and llvm-objdump are (none is needed otherwise).
const hasTool = (name) => spawnSync(name, ['--version']).status === 0;
if (hasTool('clang') && hasTool('wasm-ld') && hasTool('llvm-objdump') && spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs'), '--check'], { stdio: 'inherit' }).status !== 0) process.exit(1);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? find(path) : path.endsWith('.test.js') ? [path] : [];
  });
}
const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-')) ? [] : find(join(root, 'dist', 'test')).sort();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...args, ...files],
  { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
