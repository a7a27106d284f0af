// Errors of planning: what the user asked for cannot be planned, said before anything runs.
import { KubedaskError } from '../../protocol/errors.js';

export class PlanError extends KubedaskError {
  override name = 'PlanError';
}
