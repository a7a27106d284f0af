// Errors the client raises on its own side. All extend KubedaskError; those that also cross
// the wire are in protocol/errors.ts, with their mapping in protocol/wire-errors.ts.
import { KubedaskError } from '../protocol/errors.js';

/**
 * A finished key's value did not come back from the gather (its holder died). The client asks
 * the scheduler again while the key is recomputed; only after several tries does a caller see it.
 */
export class ValueMissingError extends KubedaskError {
  override name = 'ValueMissingError';
}

/** wait() reached its timeout with futures still pending; they go on running. */
export class WaitTimeoutError extends KubedaskError {
  override name = 'WaitTimeoutError';
  constructor(readonly pending: number, readonly total: number, readonly timeoutMs: number) {
    super(`wait: ${pending} of ${total} futures still pending after ${timeoutMs} ms`);
  }
}

/** A task uses a scattered value whose scatter failed (`cause`), so it was never sent. */
export class ScatterFailedError extends KubedaskError {
  override name = 'ScatterFailedError';
  constructor(readonly key: string, readonly scatterKey: string, cause: Error) {
    super(`task ${key} was not run: it uses scattered value ${scatterKey}, whose scatter failed: ${cause.message}`, { cause });
  }
}

/** A KubeCluster operation failed: bad options, a cluster that did not become Ready, one already there. */
export class KubeClusterError extends KubedaskError {
  override name = 'KubeClusterError';
}
