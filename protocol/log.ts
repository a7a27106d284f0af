// The one logger of every kubedask process (scheduler, worker, operator): pino writing one JSON
// object per line, {"level":"info","time":"<ISO>","component":...,"pid":...,...fields,"msg":...}.
// Levels are written as names, as they always were here, so log readers need not map numbers.
// Writes are synchronous: a process that exits right after logging loses no line.
//
// pino (about 30 modules) is loaded at the first line written, synchronously: a worker and its
// task threads, which seldom log, start without it.
import { createRequire } from 'node:module';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

type Pino = typeof import('pino');
let loaded: Pino | undefined;
const loadPino = (): Pino => (loaded ??= createRequire(import.meta.url)('pino') as Pino);

/** The environment variable that sets every process's log level when --log-level is not given. */
export const LOG_LEVEL_ENV = 'KUBEDASK_LOG_LEVEL';

export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

/** Message first, then fields: the call sites read as sentences. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Written on every line as `component`. */
  component: string;
  level: LogLevel;
  /** Where lines go: standard error by default, standard output, or any stream (tests). */
  destination?: 'stderr' | 'stdout' | DestinationStream;
  /** Also given every line written (those that pass `level`): a worker keeps its recent lines. */
  onLine?: (line: LogRecord) => void;
}

/** A line as it was written, with the fields of its logger's children and of the call. */
export interface LogRecord {
  /** Milliseconds since the Unix epoch. */
  time: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: LogFields;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** A command's --log-level (or LOG_LEVEL) value, checked; `fallback` when absent. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  if (value === undefined || value === '') return fallback;
  if (!isLogLevel(value)) throw new RangeError(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return value;
}

// One synchronous writer per file descriptor, however many loggers a process makes (tests run
// many schedulers in one process).
const writers = new Map<number, DestinationStream>();
function writer(fd: 1 | 2): DestinationStream {
  let w = writers.get(fd);
  if (!w) {
    const sonic = loadPino().pino.destination({ dest: fd, sync: true });
    sonic.on('error', () => undefined); // a closed pipe must not take the process down
    writers.set(fd, (w = sonic));
  }
  return w;
}

export function createLogger(o: LoggerOptions): Logger {
  if (!isLogLevel(o.level)) throw new RangeError(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${String(o.level)}"`);
  let made: PinoLogger | undefined;
  return wrap(() => (made ??= makePino(o)), o.level, o.onLine, {});
}

function makePino(o: LoggerOptions): PinoLogger {
  const { pino } = loadPino();
  const dest = o.destination ?? 'stderr';
  const stream = dest === 'stderr' ? writer(2) : dest === 'stdout' ? writer(1) : dest;
  return pino({
    level: o.level,
    base: { component: o.component, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Errors under these keys keep their name, message, stack, own fields (code, status) and cause.
    serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause, cause: pino.stdSerializers.errWithCause },
  }, stream);
}

/** Fields never overwrite the envelope: a clashing key is kept with a leading underscore. */
const RESERVED = new Set(['level', 'time', 'msg']);
function safe(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const k of Object.keys(fields)) {
    if (!RESERVED.has(k)) continue;
    out ??= { ...fields };
    out[`_${k}`] = out[k];
    delete out[k];
  }
  return out ?? fields;
}

/** `pino()` gives the pino logger, made at the first line that passes `level`; `inherited` are
 *  the child fields, which pino adds itself but `onLine` is given explicitly. */
function wrap(pino: () => PinoLogger, level: LogLevel, onLine: LoggerOptions['onLine'], inherited: LogFields): Logger {
  const enabled = (l: LogLevel) => level !== 'silent' && LOG_LEVELS.indexOf(l) <= LOG_LEVELS.indexOf(level);
  const at = (l: LogRecord['level']) => (msg: string, fields?: LogFields): void => {
    if (!enabled(l)) return;
    if (fields) pino()[l](safe(fields), msg);
    else pino()[l](msg);
    onLine?.({ time: Date.now(), level: l, msg, fields: fields ? { ...inherited, ...fields } : inherited });
  };
  return {
    debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    child: (fields) => {
      let made: PinoLogger | undefined;
      return wrap(() => (made ??= pino().child(safe(fields))), level, onLine, { ...inherited, ...fields });
    },
  };
}
