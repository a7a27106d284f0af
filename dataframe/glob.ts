// File patterns for readParquet/readCsv: `*`, `?` and `[...]` in any path segment, `**` for
// any depth (Node 20 has no fs.glob). Matches come back sorted, so partitions keep file order.
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[]/;

export function expandGlob(pattern: string): string[] {
  if (!MAGIC.test(pattern)) return [resolve(pattern)];
  const absolute = resolve(pattern);
  const segments = absolute.split(sep);
  const first = segments.findIndex((s) => MAGIC.test(s));
  const base = segments.slice(0, first).join(sep) || sep;
  const out: string[] = [];
  walk(isAbsolute(base) ? base : resolve(base), segments.slice(first), out);
  return out.sort();
}

function walk(dir: string, rest: string[], out: string[]): void {
  const [head, ...tail] = rest;
  if (head === undefined) return;
  if (head === '**') {
    walk(dir, tail, out); // zero directories
    for (const entry of list(dir)) if (entry.isDirectory()) walk(join(dir, entry.name), rest, out);
    return;
  }
  const re = segmentRegExp(head);
  for (const entry of list(dir)) {
    if (!re.test(entry.name)) continue;
    const path = join(dir, entry.name);
    if (tail.length === 0) {
      if (entry.isFile() || (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isFile())) out.push(path);
    } else if (entry.isDirectory()) walk(path, tail, out);
  }
}

function list(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
