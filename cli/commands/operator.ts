import { defaultIdentity, startOperator, type OperatorOptions } from '../../operator/main.js';
import { onShutdownSignal } from '../signals.js';

/** `kubedask operator` options, as ../definitions/operator.ts defines them. */
export interface OperatorFlags {
  namespace: string[];
  leaderElect?: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  host: string;
  healthPort: number;
  metricsPort: number;
  qps: number;
  burst: number;
  resync: number;
  workers: number;
  logLevel: OperatorOptions['logLevel'];
}

export async function operatorCommand(flags: OperatorFlags): Promise<void> {
  const operator = await startOperator({
    namespaces: flags.namespace,
    leaderElect: flags.leaderElect ?? false,
    leaderElectionNamespace: flags.leaderElectionNamespace ?? process.env.POD_NAMESPACE ?? (flags.namespace[0] || 'default'),
    leaderElectionId: flags.leaderElectionId,
    identity: process.env.POD_NAME || defaultIdentity(),
    host: flags.host,
    healthPort: flags.healthPort,
    metricsPort: flags.metricsPort,
    qps: flags.qps,
    burst: flags.burst,
    resyncMs: flags.resync * 1000,
    workers: flags.workers,
    logLevel: flags.logLevel,
  });
  onShutdownSignal(() => operator.close());
  const lost = await operator.closed;
  if (lost) throw lost;
}
