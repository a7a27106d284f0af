// Kubernetes resource quantities ("1.5Gi", "100m", "1e3"), read as ParseQuantity of
// k8s.io/apimachinery/pkg/api/resource reads them. The one parser of the project: the operator's
// builders (memory limits as bytes) and sim/ (the kubelet's fit check, CEL's quantity()) use it.
//
//   <quantity> ::= <sign>? <number> <suffix>      <number> ::= <digits> | <digits>. | <digits>.<digits> | .<digits>
//   <suffix>   ::= "" | n | u | m | k | M | G | T | P | E   (decimal: 10^-9 .. 10^18)
//              |  Ki | Mi | Gi | Ti | Pi | Ei             (binary: 2^10 .. 2^60)
//              |  (e|E) <sign>? <digits>                  (a decimal exponent)
// Kubernetes' parser also takes a bare sign or "." as zero; the documented grammar does not, nor
// does this one. Values are doubles: exact for integers up to 2^53 and for binary multiples,
// the nearest double otherwise (enough for requests, limits and comparisons in rules).

import { QuantityFormatError } from './errors.js';

const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const DECIMAL_EXPONENT: Record<string, number> = { '': 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** The value of a quantity; a JSON number (int-or-string fields) is taken as it is. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new QuantityFormatError(String(q));
    return q;
  }
  const m = QUANTITY.exec(q);
  if (!m) throw new QuantityFormatError(q);
  const [, sign, digits, exponent, suffix = ''] = m;
  const binary = BINARY_EXPONENT[suffix];
  // Decimal scaling goes through the string so that "1.1k" is 1100, not 1.1 * 1000 = 1100.0000000000002.
  const value = binary !== undefined
    ? Number(`${sign}${digits}`) * 2 ** binary
    : Number(`${sign}${digits}e${exponent ? Number(exponent.slice(1)) : DECIMAL_EXPONENT[suffix]!}`);
  if (!Number.isFinite(value)) throw new QuantityFormatError(q);
  return value;
}

export function isQuantity(q: string | number): boolean {
  return valueOrUndefined(q) !== undefined;
}

/** Bytes of a quantity, rounded up as Kubernetes' Value() does, or undefined when it is not a
 *  quantity or is negative. */
export function quantityBytes(q: string | number): number | undefined {
  const value = valueOrUndefined(q);
  return value !== undefined && value >= 0 ? Math.ceil(value) : undefined;
}

function valueOrUndefined(q: string | number): number | undefined {
  try {
    return parseQuantity(q);
  } catch (e) {
    if (e instanceof QuantityFormatError) return undefined;
    throw e;
  }
}
