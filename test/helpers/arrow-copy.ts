// A second, separate copy of apache-arrow (as a user's own node_modules would give), for tests
// of tables that kubedask's copy did not make.
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Arrow from 'apache-arrow';

const nodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));

/** Imports a fresh copy of apache-arrow; `remove()` deletes it. */
export async function otherArrowCopy(): Promise<{ arrow: typeof Arrow; remove(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'kubedask-arrow-copy-'));
  const copied = join(root, 'node_modules');
  cpSync(join(nodeModules, 'apache-arrow'), join(copied, 'apache-arrow'), { recursive: true });
  // Its own dependencies (tslib, flatbuffers...) are shared, as npm would hoist them.
  for (const name of readdirSync(nodeModules)) {
    if (name !== 'apache-arrow' && !name.startsWith('.')) symlinkSync(join(nodeModules, name), join(copied, name));
  }
  const arrow = await import(pathToFileURL(join(copied, 'apache-arrow', 'Arrow.node.mjs')).href) as typeof Arrow;
  return { arrow, remove: () => rmSync(root, { recursive: true, force: true }) };
}
