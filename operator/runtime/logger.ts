// Structured logs: one JSON object per line, {"time","level","msg",...fields}.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  write?: (line: string) => void;
  fields?: Fields;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RESERVED = new Set(['time', 'level', 'msg']);

/** Errors keep name, message, status/code/reason when present, and their cause. */
function serializeError(err: Error, depth = 0): Fields {
  const out: Fields = { name: err.name, message: err.message };
  for (const k of ['code', 'status', 'reason'] as const) {
    const v = (err as unknown as Fields)[k];
    if (v !== undefined) out[k] = v;
  }
  if (err.cause !== undefined && depth < 3) out.cause = err.cause instanceof Error ? serializeError(err.cause, depth + 1) : err.cause;
  return out;
}

function stringify(record: Fields): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (value instanceof Error) return serializeError(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  });
}

export function createLogger(o: LoggerOptions): Logger {
  const write = o.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const min = RANK[o.level];
  const base = o.fields ?? {};
  const log = (level: LogLevel, msg: string, fields?: Fields): void => {
    if (RANK[level] < min) return;
    const record: Fields = { time: new Date().toISOString(), level, msg };
    // Fields never overwrite the envelope: a clashing key is kept with a leading underscore.
    for (const [k, v] of Object.entries({ ...base, ...fields })) record[RESERVED.has(k) ? `_${k}` : k] = v;
    try {
      write(stringify(record));
    } catch {
      // logging must never throw into the caller
    }
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger({ ...o, write, fields: { ...base, ...fields } }),
  };
}
