// Option values checked and converted once, with errors that name the flag. Light on purpose:
// the command definitions use these at parse time, before any command's module is loaded.
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export function parsePort(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535, got "${value}"`);
  return n;
}

export function parseCount(value: string, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(max === Number.MAX_SAFE_INTEGER ? `${flag} must be an integer >= ${min}, got "${value}"` : `${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** A count that may be 0. */
export function parseCountFromZero(value: string, flag: string): number {
  return parseCount(value, flag, 0);
}

export function parseSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}

const units: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40,
};

/** '4GiB', '512MB', '1e9', '0' -> bytes. */
export function parseSize(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${flag} must be a size such as 4GiB, 512MB or 0, got "${value}"`);
  return Math.round(Number(m[1]) * unit);
}

/** 'GPU=1,FOO=2.5' -> { GPU: 1, FOO: 2.5 } */
export function parseResources(value: string, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!value) return out;
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new UsageError(`${flag} must look like GPU=1,MEMORY=2, got "${value}"`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** 'grpc://host:port', 'tls://host:port' or 'host:port' -> 'host:port'. */
export function parseHostPort(value: string, flag: string): string {
  const bare = value.replace(/^(grpc|tls):\/\//, '');
  if (!/^[\w.-]+:\d+$/.test(bare) && !/^\[[\da-fA-F:]+\]:\d+$/.test(bare)) {
    throw new UsageError(`${flag} must be host:port, got "${value}"`);
  }
  return bare;
}

/** 'a,b' -> ['a', 'b'], each a valid namespace name. */
export function parseNamespaces(value: string, flag: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  for (const n of names) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) throw new UsageError(`${flag} "${n}" is not a valid namespace name`);
  return names;
}

/** A PEM file's contents, read when the flag is parsed so a wrong path is bad usage. */
export function readPemFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
