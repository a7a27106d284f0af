// Helpers for the command definitions: an option whose value a validator from ../options.ts
// checks at parse time, and the mutual-TLS options shared by several commands.
import { Option } from 'commander';
import { LOG_LEVEL_ENV, LOG_LEVELS, parseLogLevel } from '../../protocol/log.js';
import { UsageError } from '../errors.js';
import { readPemFile } from '../options.js';

/**
 * `--flag <VALUE>` converted by `parse`, which is given the flag's name for its errors.
 * `fallback` is the value when the flag is absent; `shown` describes it in --help when the
 * value itself would not say much (a computed default, or -1 for "off").
 */
export function valued<T>(flags: string, description: string, parse: (value: string, flag: string) => T, fallback?: T, shown?: string): Option {
  const option = new Option(flags, description);
  option.argParser((value: string) => parse(value, option.long!));
  return fallback === undefined ? option : option.default(fallback, shown);
}

/** The three PEM files of mutual TLS; all or none (checked by ../tls-files.ts). */
export function tlsOptions(): Option[] {
  return [
    valued('--tls-ca <FILE>', 'PEM file of the cluster CA that signs every certificate (mutual TLS)', readPemFile),
    valued('--tls-cert <FILE>', 'PEM file of this process\'s certificate', readPemFile),
    valued('--tls-key <FILE>', 'PEM file of this process\'s private key', readPemFile),
  ];
}

/** Option values of tlsOptions(), as commander names them. */
export interface TlsFlags {
  tlsCa?: Buffer;
  tlsCert?: Buffer;
  tlsKey?: Buffer;
}

/**
 * `--log-level`, else $KUBEDASK_LOG_LEVEL, else info: the same levels for every process
 * (protocol/log.ts), in any case. The variable is ours by name, so another tool's LOG_LEVEL in a
 * shell or pod cannot stop a worker from starting; an empty one counts as unset.
 */
export function logLevelOption(): Option {
  const option = new Option('--log-level <LEVEL>', `least severe log lines written: ${LOG_LEVELS.join(', ')}`).default('info').env(LOG_LEVEL_ENV);
  return option.argParser((value: string) => {
    try {
      return parseLogLevel(value.trim().toLowerCase(), 'info');
    } catch (err) {
      throw new UsageError(`--log-level (or $${LOG_LEVEL_ENV}): ${(err as Error).message}`);
    }
  });
}

