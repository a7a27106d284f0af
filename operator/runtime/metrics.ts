// A tiny Prometheus registry rendering text exposition format 0.0.4.
export type Labels = Record<string, string | number>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function formatNumber(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

abstract class Metric<S> {
  protected readonly series = new Map<string, { labels: string[]; value: S }>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly type: string) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    for (const l of labelNames) if (!LABEL.test(l) || l.startsWith('__')) throw new Error(`metric ${name}: invalid label name ${JSON.stringify(l)}`);
  }

  /** Label values in declared order; unknown labels are a programming error, missing ones are "". */
  protected values(labels: Labels = {}): string[] {
    for (const k of Object.keys(labels)) if (!this.labelNames.includes(k)) throw new Error(`metric ${this.name}: unknown label ${JSON.stringify(k)}`);
    return this.labelNames.map((l) => (labels[l] === undefined ? '' : String(labels[l])));
  }

  protected entry(labels: Labels | undefined, init: () => S): { labels: string[]; value: S } {
    const values = this.values(labels);
    const key = JSON.stringify(values);
    let e = this.series.get(key);
    if (!e) this.series.set(key, (e = { labels: values, value: init() }));
    return e;
  }

  /** Drops one series (e.g. of a deleted cluster). */
  remove(labels: Labels): void {
    this.series.delete(JSON.stringify(this.values(labels)));
  }

  reset(): void {
    this.series.clear();
  }

  protected labelText(values: string[], extra?: [string, string]): string {
    const pairs = this.labelNames.map((l, i) => `${l}="${escapeValue(values[i])}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeValue(extra[1])}"`);
    return pairs.length ? `{${pairs.join(',')}}` : '';
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.series.values()) lines.push(...this.sample(labels, value));
    return lines.join('\n') + '\n';
  }

  protected abstract sample(labels: string[], value: S): string[];
}

const split = (a?: Labels | number, b?: number): [Labels | undefined, number | undefined] => (typeof a === 'number' ? [undefined, a] : [a, b]);

export class Counter extends Metric<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 'counter');
  }
  inc(labels?: Labels | number, v?: number): void {
    const [l, n = 1] = split(labels, v);
    if (n < 0) throw new Error(`counter ${this.name} cannot decrease`);
    this.entry(l, () => ({ v: 0 })).value.v += n;
  }
  get(labels?: Labels): number {
    return this.series.get(JSON.stringify(this.values(labels)))?.value.v ?? 0;
  }
  protected sample(labels: string[], s: { v: number }): string[] {
    return [`${this.name}${this.labelText(labels)} ${formatNumber(s.v)}`];
  }
}

export class Gauge extends Metric<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 'gauge');
  }
  set(labels: Labels | number, v?: number): void {
    const [l, n = 0] = split(labels, v);
    this.entry(l, () => ({ v: 0 })).value.v = n;
  }
  inc(labels?: Labels | number, v?: number): void {
    const [l, n = 1] = split(labels, v);
    this.entry(l, () => ({ v: 0 })).value.v += n;
  }
  dec(labels?: Labels | number, v?: number): void {
    const [l, n = 1] = split(labels, v);
    this.entry(l, () => ({ v: 0 })).value.v -= n;
  }
  get(labels?: Labels): number {
    return this.series.get(JSON.stringify(this.values(labels)))?.value.v ?? 0;
  }
  protected sample(labels: string[], s: { v: number }): string[] {
    return [`${this.name}${this.labelText(labels)} ${formatNumber(s.v)}`];
  }
}

interface HistogramState { counts: number[]; sum: number; count: number }

export class Histogram extends Metric<HistogramState> {
  readonly buckets: number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    if (labelNames.includes('le')) throw new Error(`histogram ${name}: "le" is reserved`);
    super(name, help, labelNames, 'histogram');
    this.buckets = [...new Set(buckets)].filter((b) => b !== Infinity).sort((a, b) => a - b);
  }
  observe(labels: Labels | number, v?: number): void {
    const [l, n = 0] = split(labels, v);
    const s = this.entry(l, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    this.buckets.forEach((b, i) => {
      if (n <= b) s.counts[i]++;
    });
    s.sum += n;
    s.count++;
  }
  protected sample(labels: string[], s: HistogramState): string[] {
    const lines = this.buckets.map((b, i) => `${this.name}_bucket${this.labelText(labels, ['le', formatNumber(b)])} ${s.counts[i]}`);
    lines.push(`${this.name}_bucket${this.labelText(labels, ['le', '+Inf'])} ${s.count}`);
    lines.push(`${this.name}_sum${this.labelText(labels)} ${formatNumber(s.sum)}`);
    lines.push(`${this.name}_count${this.labelText(labels)} ${s.count}`);
    return lines;
  }
}

type AnyMetric = Counter | Gauge | Histogram;

export class Registry {
  private readonly metrics = new Map<string, AnyMetric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(name, labelNames, Counter, () => new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(name, labelNames, Gauge, () => new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.register(name, labelNames, Histogram, () => new Histogram(name, help, labelNames, buckets));
  }

  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }

  /** The same name registered again with the same kind and labels returns the first one. */
  private register<M extends AnyMetric>(name: string, labelNames: readonly string[], kind: abstract new (...args: never[]) => M, make: () => M): M {
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing instanceof kind && existing.labelNames.join() === labelNames.join()) return existing;
      throw new Error(`metric ${name} is already registered as a different ${existing.type}`);
    }
    const m = make();
    this.metrics.set(name, m);
    return m;
  }
}
