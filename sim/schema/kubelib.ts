// The Kubernetes CEL libraries that @marcbachmann/cel-js lacks but CRDs commonly use (lists,
// regex, strings extensions, quantity). Without them a rule valid on a real cluster would be
// rejected here as "found no matching overload". url(), ip(), cidr() and sets.* are not provided.
import type { Environment } from '@marcbachmann/cel-js';
import { isQuantity, parseQuantity } from '../../operator/api/quantity.js';

/** A resource.Quantity, held as an approximate float (exact enough for comparisons in rules). */
export class Quantity {
  constructor(readonly value: number) {}
}

function quantity(s: string): Quantity {
  return new Quantity(parseQuantity(s));
}

type Num = bigint | number;
const cmp = (a: unknown, b: unknown): number => ((a as Num) < (b as Num) ? -1 : (a as Num) > (b as Num) ? 1 : 0);
const index = (l: unknown[], v: unknown, last: boolean): bigint => {
  const eq = (x: unknown): boolean => x === v || JSON.stringify(x, (_k, y) => (typeof y === 'bigint' ? y.toString() : y)) === JSON.stringify(v, (_k, y) => (typeof y === 'bigint' ? y.toString() : y));
  return BigInt(last ? l.findLastIndex(eq) : l.findIndex(eq));
};
const extreme = (l: Num[], sign: number): Num => {
  if (l.length === 0) throw new Error('min/max of an empty list');
  return l.reduce((a, b) => (cmp(b, a) === sign ? b : a));
};

/** Registers the library on an environment (call before the environment is cloned). */
export function installKubeLibrary(env: Environment): Environment {
  return env
    .registerType('Quantity', Quantity)
    // lists
    .registerFunction('list<dyn>.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || cmp(l[i - 1], x) <= 0))
    .registerFunction('list<int>.sum(): int', (l: bigint[]) => l.reduce((a, b) => a + b, 0n))
    .registerFunction('list<double>.sum(): double', (l: number[]) => l.reduce((a, b) => a + b, 0))
    .registerFunction('list<int>.min(): int', (l: bigint[]) => extreme(l, -1))
    .registerFunction('list<int>.max(): int', (l: bigint[]) => extreme(l, 1))
    .registerFunction('list<double>.min(): double', (l: number[]) => extreme(l, -1))
    .registerFunction('list<double>.max(): double', (l: number[]) => extreme(l, 1))
    .registerFunction('list<dyn>.indexOf(dyn): int', (l: unknown[], v: unknown) => index(l, v, false))
    .registerFunction('list<dyn>.lastIndexOf(dyn): int', (l: unknown[], v: unknown) => index(l, v, true))
    // regex
    .registerFunction('string.find(string): string', (s: string, re: string) => new RegExp(re).exec(s)?.[0] ?? '')
    .registerFunction('string.findAll(string): list<string>', (s: string, re: string) => [...s.matchAll(new RegExp(re, 'g'))].map((m) => m[0]))
    // strings extensions
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => s.charAt(Number(i)))
    .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b))
    .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''))
    // cel-go accepts timestamp(t) on a timestamp (date-time fields are timestamps)
    .registerFunction('timestamp(google.protobuf.Timestamp): google.protobuf.Timestamp', (t: Date) => t)
    // quantity
    .registerFunction('quantity(string): Quantity', quantity)
    .registerFunction('isQuantity(string): bool', (s: string) => isQuantity(s))
    .registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: Quantity, b: Quantity) => a.value > b.value)
    .registerFunction('Quantity.isLessThan(Quantity): bool', (a: Quantity, b: Quantity) => a.value < b.value)
    .registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) => BigInt(cmp(a.value, b.value)))
    .registerFunction('Quantity.add(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.value + b.value))
    .registerFunction('Quantity.sub(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.value - b.value))
    .registerFunction('Quantity.isInteger(): bool', (a: Quantity) => Number.isInteger(a.value))
    .registerFunction('Quantity.asInteger(): int', (a: Quantity) => BigInt(Math.trunc(a.value)))
    .registerFunction('Quantity.asApproximateFloat(): double', (a: Quantity) => a.value)
    .registerFunction('Quantity.sign(): int', (a: Quantity) => BigInt(Math.sign(a.value)))
    .registerOperator('Quantity == Quantity', (a: Quantity, b: Quantity) => a.value === b.value);
}
