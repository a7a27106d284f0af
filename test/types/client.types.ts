// Type tests of the typed client, checked by tsc when the project builds (npm run build, and
// so npm test): `expectType<Equal<...>>()` pins an inferred type, `@ts-expect-error` marks a
// call that must be refused (the build fails if it is accepted). Never run: the checks sit in
// functions nobody calls.
// Variables here exist to have their types pinned, so are "used only as a type".
/* eslint-disable @typescript-eslint/no-unused-vars */
import { Client, defaultClient, delayed, Future, type Completed, type Delayed, type ModuleFunction, type TaskFunction } from '../../index.js';
import type { Table } from 'apache-arrow';
import { expectType, type Equal } from './expect.js';

export async function futures(client: Client): Promise<void> {
  const f = client.submit((x: number) => x + 1, 1);
  expectType<Equal<typeof f, Future<number>>>();
  // Awaiting a Future gives its value, as future.result() does.
  const v = await f;
  expectType<Equal<typeof v, number>>();
  expectType<Equal<Awaited<Future<string[]>>, string[]>>();
  expectType<Equal<ReturnType<Future<Date>['result']>, Promise<Date>>>();
  expectType<Equal<typeof f.key, string>>();
  // A Future of a subtype stands for a Future of its supertype, not the reverse.
  const wide: Future<number | string> = f;
  // @ts-expect-error a Future<number | string> is not a Future<number>
  const narrow: Future<number> = wide;
  void narrow;
}

export function submit(client: Client, n: Future<number>, s: Future<string>, ns: Future<number>[]): void {
  // The task's result type, a promise unwrapped.
  const asyncTask = client.submit(async (x: string) => x.length > 1, 'ab');
  expectType<Equal<typeof asyncTask, Future<boolean>>>();
  // A top-level undefined travels as null; void stays void.
  const none = client.submit(() => undefined);
  expectType<Equal<typeof none, Future<null>>>();
  const maybe = client.submit((x: number) => (x > 0 ? x : undefined), 1);
  expectType<Equal<typeof maybe, Future<number | null>>>();
  const nothing = client.submit((x: number): void => { void x; }, 1);
  expectType<Equal<typeof nothing, Future<void>>>();

  // A Future<X> is accepted where an X is expected, also inside arrays and plain objects.
  client.submit((a: number, b: string) => a + b, n, s);
  client.submit((xs: number[]) => xs.length, ns);
  client.submit((xs: number[]) => xs.length, [1, n, 3]);
  client.submit((o: { a: number; b: { c: string } }) => o.a, { a: n, b: { c: s } });
  client.submit((pair: [number, string]) => pair[0], [n, s]);
  client.submit((m: Map<string, number>) => m.size, new Map([['a', 1]]));
  client.submitWith({ resources: { GPU: 1 } }, (x: number) => x, n);
  client.submit((x?: number) => x ?? 0);

  // @ts-expect-error a string where a number is expected
  client.submit((x: number) => x, 'one');
  // @ts-expect-error a Future<string> where a number is expected
  client.submit((x: number) => x, s);
  // @ts-expect-error a Future<string> inside an array of numbers
  client.submit((xs: number[]) => xs.length, [1, s]);
  // @ts-expect-error a Future<string> inside a plain object
  client.submit((o: { a: number }) => o.a, { a: s });
  // @ts-expect-error an argument missing
  client.submit((a: number, b: number) => a + b, 1);
  // @ts-expect-error one argument too many
  client.submit((a: number) => a, 1, 2);
  // @ts-expect-error futures inside a Map are refused at run time, so by the types too
  client.submit((m: Map<string, number>) => m.size, new Map([['a', n]]));
  // @ts-expect-error submitWith checks its arguments as submit does
  client.submitWith({}, (x: number) => x, 'one');
}

export function untyped(client: Client, fn: TaskFunction): void {
  // A function of unknown signature takes anything and gives unknown.
  const f = client.submit(fn, 1, 'two', { three: 3 });
  expectType<Equal<typeof f, Future<unknown>>>();
  const d = delayed(fn)(1, 'two');
  expectType<Equal<typeof d, Delayed<unknown>>>();
}

export function map(client: Client, n: Future<number>, s: Future<string>): void {
  const fs = client.map((x: number) => String(x), [1, 2, n]);
  expectType<Equal<typeof fs, Future<string>[]>>();
  const objs = client.map(async (p: { i: number }) => [p.i], [{ i: n }]);
  expectType<Equal<typeof objs, Future<number[]>[]>>();
  // Unannotated parameters take their types from the items or arguments, a Future<X> giving X.
  const inferred = client.map((x) => x * 2, [1, n]);
  expectType<Equal<typeof inferred, Future<number>[]>>();
  const joined = client.submit((a, b) => `${a}${b.length}`, n, s);
  expectType<Equal<typeof joined, Future<string>>>();
  // @ts-expect-error an item of the wrong type
  client.map((x: number) => x, [1, 'two']);
  // @ts-expect-error a Future of the wrong type among the items
  client.map((x: number) => x, [n, s]);
}

export async function gather(client: Client, n: Future<number>, s: Future<string>, ns: Future<number>[]): Promise<void> {
  const one = await client.gather(n);
  expectType<Equal<typeof one, number>>();
  const list = await client.gather(ns);
  expectType<Equal<typeof list, number[]>>();
  const tuple = await client.gather([n, s]);
  expectType<Equal<typeof tuple, [number, string]>>();
  const record = await client.gather({ a: n, b: s });
  expectType<Equal<typeof record, { a: number; b: string }>>();
  const nested = await client.gather({ xs: ns, pair: [n, s], label: 'x' });
  expectType<Equal<typeof nested, { xs: number[]; pair: [number, string]; label: 'x' }>>();
  // @ts-expect-error the value is a number, not a string
  const wrong: string = await client.gather(n);
  void wrong;
  // gather walks only arrays and plain objects: other objects come back as given, Futures and all.
  const instance = new Holder(n);
  const kept = await client.gather({ instance, table: {} as Table, map: new Map([['a', n]]), when: new Date(), first: n });
  expectType<Equal<typeof kept, { instance: Holder; table: Table; map: Map<string, Future<number>>; when: Date; first: number }>>();
  const alone = await client.gather(instance);
  expectType<Equal<typeof alone, Holder>>();
}

class Holder {
  constructor(readonly future: Future<number>) {}
  describe(): string {
    return this.future.key;
  }
}

export function scatter(client: Client): void {
  const m = client.scatter(new Map([['a', 1]]));
  expectType<Equal<typeof m, Future<Map<string, number>>>>();
  const items = client.scatter([1, 2, 3], { list: true });
  expectType<Equal<typeof items, Future<number>[]>>();
  client.submit((x: Map<string, number>) => x.size, m);
  // @ts-expect-error a scattered Map is not a number
  client.submit((x: number) => x, m);
}

export function delayedGraphs(client: Client, n: Future<number>, s: Future<string>): void {
  const inc = delayed((x: number) => x + 1);
  const add = delayed(async (a: number, b: number) => a + b);
  const label = delayed((x: number) => `#${x}`);
  const one = inc(1);
  expectType<Equal<typeof one, Delayed<number>>>();
  // A Delayed<X> or a Future<X> stands for an X, also inside arrays and objects.
  const total = add(inc(one), n);
  expectType<Equal<typeof total, Delayed<number>>>();
  const sum = delayed((xs: number[]) => xs.reduce((a, b) => a + b, 0))([one, n, 3]);
  const text = label(sum);
  expectType<Equal<typeof text, Delayed<string>>>();
  // @ts-expect-error a Delayed<string> where a number is expected
  inc(text);
  // @ts-expect-error a Future<string> where a number is expected
  inc(s);
  // @ts-expect-error a missing argument
  add(1);

  const f = client.compute(total);
  expectType<Equal<typeof f, Future<number>>>();
  const pair = client.compute([total, text]);
  expectType<Equal<typeof pair, [Future<number>, Future<string>]>>();
  const kept = client.persist(text);
  expectType<Equal<typeof kept, Future<string>>>();
  const keptList = client.persist([one, text]);
  expectType<Equal<typeof keptList, [Future<number>, Future<string>]>>();
}

interface Tasks {
  square(x: number): number;
  load(path: string, limit?: number): Promise<string[]>;
  version: string;
}

export async function uploaded(client: Client): Promise<void> {
  const tasks = await client.upload<Tasks>('./tasks.js');
  expectType<Equal<typeof tasks, { square: ModuleFunction<Tasks['square']>; load: ModuleFunction<Tasks['load']> }>>();
  const squared = client.submit(tasks.square, 3);
  expectType<Equal<typeof squared, Future<number>>>();
  const lines = client.submit(tasks.load, 'a.csv');
  expectType<Equal<typeof lines, Future<string[]>>>();
  // @ts-expect-error the export takes a number
  client.submit(tasks.square, 'three');
  // @ts-expect-error not a function export
  void tasks.version;
  // Without the module's type, exports take and give anything.
  const untyped = await client.upload('./tasks.js');
  const anything = client.submit(untyped.whatever!, 1, 'two');
  expectType<Equal<typeof anything, Future<unknown>>>();
}

export async function completion(client: Client, ns: Future<number>[]): Promise<void> {
  for await (const done of client.asCompleted(ns)) {
    expectType<Equal<typeof done, Completed<Future<number>>>>();
    expectType<Equal<typeof done.index, number>>();
  }
  expectType<Equal<ReturnType<typeof Client.current>, Client>>();
  expectType<Equal<ReturnType<typeof defaultClient>, Client>>();
}
