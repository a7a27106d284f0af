import { parseArgs } from 'node:util';
import { defaultIdentity, startOperator } from '../../operator/main.js';
import { parseCount, parsePort, parseSeconds, UsageError } from '../options.js';
import { onShutdownSignal } from '../signals.js';


const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export async function operatorCommand(argv: string[]): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: argv, strict: true, allowPositionals: false, options: {
        namespace: { type: 'string', multiple: true }, 'leader-elect': { type: 'boolean' },
        'leader-election-namespace': { type: 'string' }, 'leader-election-id': { type: 'string' },
        'health-port': { type: 'string' }, 'metrics-port': { type: 'string' }, host: { type: 'string' },
        qps: { type: 'string' }, burst: { type: 'string' }, resync: { type: 'string' }, workers: { type: 'string' },
        'log-level': { type: 'string' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const level = v['log-level'] ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${level}"`);
  const namespaces = (v.namespace ?? []).flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  for (const n of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) throw new UsageError(`--namespace "${n}" is not a valid namespace name`);
  const leaderNs = v['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? (namespaces[0] || 'default');
  const operator = await startOperator({
    namespaces,
    leaderElect: v['leader-elect'] ?? false,
    leaderElectionNamespace: leaderNs,
    leaderElectionId: v['leader-election-id'] ?? 'kubedask-operator',
    identity: process.env.POD_NAME || defaultIdentity(),
    host: v.host ?? '0.0.0.0',
    healthPort: parsePort(v['health-port'], '--health-port', 8081),
    metricsPort: parsePort(v['metrics-port'], '--metrics-port', 8080),
    qps: parseCount(v.qps, '--qps', 20),
    burst: parseCount(v.burst, '--burst', 40),
    resyncMs: parseSeconds(v.resync, '--resync', 300) * 1000,
    workers: parseCount(v.workers, '--workers', 4),
    logLevel: level as (typeof LEVELS)[number],
  });
  onShutdownSignal(() => operator.close());
  const lost = await operator.closed;
  if (lost) throw lost;
}
