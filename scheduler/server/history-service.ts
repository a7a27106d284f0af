// Scheduler.History: the session's history as JSON, whole or as a delta (history/types.ts).
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { ProtocolError } from '../../protocol/errors.js';
import { toServiceError } from '../../protocol/wire-errors.js';
import { InvalidHistoryRequest } from '../history/request.js';
import type { SchedulerCore } from './core.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

export function historyHandler(core: SchedulerCore): Unary<kubedask.v1.HistoryRequest, kubedask.v1.HistoryReply.$Properties> {
  return (call, cb) => {
    try {
      const r = call.request;
      core.sampleHistory(); // a reader right after a burst sees its figures, not last second's
      const maxEntries = r.maxEntries || undefined;
      const body = r.delta
        ? core.history.delta({ cursor: r.cursor ?? 0, lanes: r.lanes ?? 0, groups: r.groups ?? 0, since: r.since ?? 0, maxEntries })
        : core.history.snapshot({ maxEntries });
      cb(null, { json: JSON.stringify(body) });
    } catch (err) {
      cb(toServiceError(err instanceof InvalidHistoryRequest ? new ProtocolError(err.message, { cause: err }) : err));
    }
  };
}
