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
