// The operator's Prometheus metrics (prom-client), in the registry of one running operator.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type { Counter, Gauge } from 'prom-client';

export interface OperatorMetricsSources {
  /** Keys waiting in the work queue, read at each scrape. */
  queueDepth: () => number;
}

export function operatorMetrics(registry: Registry, sources: OperatorMetricsSources) {
  const registers = [registry];
  return {
    reconciles: new Counter({ name: 'kubedask_operator_reconciles_total', help: 'Reconciles by kind and outcome (success, requeue, error).', labelNames: ['kind', 'outcome'], registers }),
    errors: new Counter({ name: 'kubedask_operator_reconcile_errors_total', help: 'Reconciles that failed and were retried with backoff.', labelNames: ['kind'], registers }),
    duration: new Histogram({ name: 'kubedask_operator_reconcile_duration_seconds', help: 'Time spent in one reconcile.', labelNames: ['kind'], registers }),
    depth: new Gauge({ name: 'kubedask_operator_workqueue_depth', help: 'Keys waiting in the work queue.', registers, collect() { this.set(sources.queueDepth()); } }),
    leader: new Gauge({ name: 'kubedask_operator_leader', help: '1 while this replica leads and reconciles.', registers }),
    apiRequests: new Counter({ name: 'kubedask_operator_api_requests_total', help: 'Requests to the Kubernetes API by verb, resource and status code.', labelNames: ['verb', 'resource', 'code'], registers }),
    autoscaler: {
      decisions: new Counter({ name: 'kubedask_autoscaler_decisions_total', help: 'Replica changes the autoscaler made, by cluster, group, direction (up, down) and cause (schedulerTarget, idleScaleToZero, or the limit that held it: maxReplicas, scaleUpRate, ...).', labelNames: ['cluster', 'group', 'direction', 'reason'], registers }),
      recommended: new Gauge({ name: 'kubedask_autoscaler_recommended_workers', help: 'The scheduler\'s adaptive target per group, as the autoscaler last read it.', labelNames: ['cluster', 'group'], registers }),
      desired: new Gauge({ name: 'kubedask_autoscaler_desired_workers', help: 'Replicas the autoscaler wants per group, after limits, windows and policy.', labelNames: ['cluster', 'group'], registers }),
      updates: new Counter({ name: 'kubedask_autoscaler_metrics_updates_total', help: 'Metrics updates received from schedulers.', labelNames: ['cluster'], registers }),
      reports: new Counter({ name: 'kubedask_autoscaler_decision_reports_total', help: 'Decisions told to the scheduler for its dashboard (Control.RecordDecision), by outcome (recorded, failed); best-effort, scaling never waits on them.', labelNames: ['outcome'], registers }),
    },
  };
}
