// Where the dashboard's browser files are: its pages and scripts (dashboard/static, copied
// beside the compiled code by the build) and uPlot's files, from node_modules (no CDN: the
// dashboard works where nothing outside can be reached).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot'));

export const UPLOT_FILES = ['uPlot.iife.min.js', 'uPlot.min.css'] as const;

const cache = new Map<string, string>();

function read(path: string): string {
  let text = cache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    cache.set(path, text);
  }
  return text;
}

/** The names under dashboard/static that the server may send (nothing else is reachable). */
export function staticNames(): Set<string> {
  return new Set(readdirSync(STATIC_DIR).filter((name) => /^[\w-]+\.(html|js|css)$/.test(name)));
}

export function staticFile(name: string): string {
  return read(join(STATIC_DIR, name));
}

export function uplotFile(name: (typeof UPLOT_FILES)[number]): string {
  return read(join(UPLOT_DIR, name));
}
