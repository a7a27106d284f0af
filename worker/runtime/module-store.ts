// Uploaded modules (proto ModuleSource) become .mjs files under the kubedask package directory,
// so their bare imports ('apache-arrow', 'nodejs-polars') resolve against the package's
// node_modules (or a parent node_modules the package was hoisted into). Task threads import
// them by file URL. Files are named by content hash: re-uploading a changed module gives a new
// URL, which is also the threads' cache key, so no thread runs a stale version. Each store
// writes into a directory of its own under that (workers of one machine share the package),
// and close() removes it, so the files do not pile up across worker runs.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModuleInstallError } from './errors.js';

/** The nearest directory above this file holding a package.json: the kubedask package root. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export class ModuleStore {
  private readonly urls = new Map<string, string>();
  private readonly dir: string;
  /** This store's own directory's name, within `dir` or the temp fallback. */
  private readonly own = `${process.pid}-${randomBytes(4).toString('hex')}`;
  /** Directories this store created (and removes on close). */
  private readonly written = new Set<string>();

  constructor(dir?: string) {
    this.dir = dir ?? join(packageRoot(), '.kubedask', 'modules');
  }

  /** Writes the module (synchronously, so tasks that follow the upload find it) and returns its URL. */
  install(name: string, source: string): string {
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const file = `${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}-${hash}.mjs`;
    let path: string;
    try {
      path = this.write(join(this.dir, this.own), file, source);
    } catch (err) {
      // A read-only install (a global npm prefix, an image): modules still run, but their bare
      // imports resolve only if a node_modules is found above the temp directory.
      try {
        path = this.write(join(tmpdir(), 'kubedask-modules', this.own), file, source);
      } catch {
        throw new ModuleInstallError(name, { cause: err });
      }
    }
    const url = pathToFileURL(path).href;
    this.urls.set(name, url);
    return url;
  }

  url(name: string): string | undefined {
    return this.urls.get(name);
  }

  /** Removes the files this store wrote. */
  async close(): Promise<void> {
    this.urls.clear();
    const dirs = [...this.written];
    this.written.clear();
    await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  private write(dir: string, file: string, source: string): string {
    const path = join(dir, file);
    if (existsSync(path)) return path;
    mkdirSync(dir, { recursive: true });
    this.written.add(dir);
    // Write then rename: a file in place is whole (a thread may be importing the old one).
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, path);
    return path;
  }
}
