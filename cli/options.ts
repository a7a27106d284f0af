// Command-line options compiled once into typed objects, with clear errors. Nothing deeper
// reads argv or the environment.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkTls, type Tls } from '../protocol/tls.js';

/** Bad usage: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>;
export type Flags<T extends FlagSpec> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };

export function parse<T extends FlagSpec>(argv: string[], options: T): Flags<T> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Flags<T>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function parsePort(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0-65535, got "${value}"`);
  return n;
}

export function parseCount(value: string | undefined, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
}

export function parseSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}

const units: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40,
};

/** '4GiB', '512MB', '1e9', '0' -> bytes. */
export function parseSize(value: string | undefined, flag: string, fallback = 0): number {
  if (value === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${flag} must be a size such as 4GiB, 512MB or 0, got "${value}"`);
  return Math.round(Number(m[1]) * unit);
}

/** 'GPU=1,FOO=2.5' -> { GPU: 1, FOO: 2.5 } */
export function parseResources(value: string | undefined, flag: string): Record<string, number> {
  if (!value) return {};
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new UsageError(`${flag} must look like GPU=1,MEMORY=2, got "${value}"`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseHostPort(value: string, flag: string): string {
  const bare = value.replace(/^(grpc|tls):\/\//, '');
  if (!/^[\w.-]+:\d+$/.test(bare) && !/^\[[\da-fA-F:]+\]:\d+$/.test(bare)) {
    throw new UsageError(`${flag} must be host:port, got "${value}"`);
  }
  return bare;
}

export const tlsFlags = { 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } } as const;

/** The three PEM files of mutual TLS, all or none. */
export function parseTls(v: { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string }): Tls | undefined {
  const paths = { ca: v['tls-ca'], cert: v['tls-cert'], key: v['tls-key'] };
  const given = Object.values(paths).filter((p) => p !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3) throw new UsageError('--tls-ca, --tls-cert and --tls-key go together (mutual TLS)');
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  const tls = { ca: read('--tls-ca', paths.ca!), cert: read('--tls-cert', paths.cert!), key: read('--tls-key', paths.key!) };
  try {
    return checkTls(tls);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
