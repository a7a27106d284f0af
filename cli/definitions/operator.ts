import { Option, type Command } from 'commander';
import type { OperatorFlags } from '../commands/operator.js';
import { parseCount, parseNamespaces, parsePort, parseSeconds } from '../options.js';
import { logLevelOption, valued } from './option.js';

export function defineOperator(program: Command): void {
  const namespaces = new Option('--namespace <NS>', 'namespace to manage; repeat it or separate with commas')
    .argParser((value: string, previous: string[]) => [...previous, ...parseNamespaces(value, '--namespace')])
    .default([], 'all namespaces');
  program.command('operator')
    .description('run the Kubernetes operator for DaskCluster, DaskWorkerGroup, DaskJob and DaskAutoscalingPolicy')
    .addOption(namespaces)
    .option('--leader-elect', 'run only while holding the leader Lease, so replicas can stand by')
    .option('--leader-election-namespace <NS>', 'namespace of the Lease (default: $POD_NAMESPACE, else the first --namespace, else "default")')
    .option('--leader-election-id <ID>', 'name of the Lease', 'kubedask-operator')
    .option('--host <H>', 'interface the health and metrics ports listen on', '0.0.0.0')
    .addOption(valued('--health-port <P>', 'port of /healthz and /readyz', parsePort, 8081))
    .addOption(valued('--metrics-port <P>', 'port of the Prometheus /metrics endpoint', parsePort, 8080))
    .addOption(valued('--qps <N>', 'Kubernetes API requests per second, steady', parseCount, 20))
    .addOption(valued('--burst <N>', 'Kubernetes API requests allowed at once above --qps', parseCount, 40))
    .addOption(valued('--resync <SECONDS>', 'reconcile every object at least this often', parseSeconds, 300))
    .addOption(valued('--workers <N>', 'objects reconciled at once', parseCount, 4))
    .addOption(logLevelOption())
    .action(async (flags: OperatorFlags) => (await import('../commands/operator.js')).operatorCommand(flags));
}
