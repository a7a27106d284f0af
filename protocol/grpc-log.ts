// grpc-js writes its own log lines (a bad proxy variable, a refused keepalive, GRPC_TRACE output)
// to stderr with console.error. A user should see only our lines: every process routes grpc-js's
// into its pino logger at debug, with grpc's own severity as a field.
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { createLogger, isLogLevel, LOG_LEVEL_ENV, type Logger } from './log.js';

let routed = false;

/** Sends grpc-js's log lines to `log` at debug. grpc-js has one logger per process: a scheduler,
 *  worker or operator takes it over (routeGrpcLogsByEnv, for a client, only where none has). */
export function routeGrpcLogs(log: Logger): void {
  routed = true;
  const at = (severity: string) => (...args: unknown[]): void => log.debug(format(...args), { source: 'grpc-js', severity });
  grpc.setLogger({ error: at('error'), info: at('info'), debug: at('debug') });
}

/** For a process without a logger of its own (a client's, the sim's) where none is routed yet:
 *  grpc-js's lines go to standard error as `component` at $KUBEDASK_LOG_LEVEL (warn when unset or
 *  unknown), so they show only when asked for with debug. */
export function routeGrpcLogsByEnv(component: string): void {
  if (routed) return;
  const wanted = (process.env[LOG_LEVEL_ENV] ?? '').toLowerCase();
  routeGrpcLogs(createLogger({ component, level: isLogLevel(wanted) ? wanted : 'warn' }));
}
