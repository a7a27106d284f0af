// Kubernetes quantities given on the command line, checked when the command starts rather than at
// parse time: the parser lives with the operator's API types, which a worker or scheduler process
// never loads, and every command's definitions are parsed in every process.
import { parseQuantity } from '../operator/api/quantity.js';
import { UsageError } from './errors.js';

/** A Kubernetes quantity ('4', '500m', '16Gi') above zero, kept as written for the API. */
export function parsePositiveQuantity(value: string, flag: string): string {
  let amount: number;
  try {
    amount = parseQuantity(value);
  } catch (err) {
    throw new UsageError(`${flag} must be a Kubernetes quantity such as 4, 500m or 16Gi: ${(err as Error).message}`);
  }
  if (!(amount > 0)) throw new UsageError(`${flag} must be above zero, got "${value}"`);
  return value;
}
