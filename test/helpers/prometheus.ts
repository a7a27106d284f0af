// A strict parser of the Prometheus text exposition format 0.0.4, for tests that scrape an
// endpoint: every line must parse, every sample must belong to the family declared before it,
// and no series may appear twice. Tests then look samples up by name and labels. Every text is
// also read by a published parser (parse-prometheus-text-format), which must see the same
// families, types and values: what a real scraper reads, not only what we think it reads.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; help: string; type: string; samples: Sample[] }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

const unescape = (s: string, quotes: boolean): string =>
  s.replace(/\\(.)/g, (_m, ch: string) => (ch === 'n' ? '\n' : ch === '\\' || (quotes && ch === '"') ? ch : `\\${ch}`));

/** As Prometheus reads values (Go's ParseFloat): Inf and NaN in any case, with a sign. */
function parseValue(text: string, line: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new Error(`bad value in ${JSON.stringify(line)}`);
  return v;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.trim() !== '') {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in ${JSON.stringify(line)}`);
    labels[m[1]!] = unescape(m[2]!, true);
    rest = rest.slice(m[0].length);
  }
  return labels;
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: '', type: 'untyped', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      const f = family(name);
      if (f.samples.length) throw new Error(`${kind} of ${name} after its samples`);
      if (kind === 'HELP') f.help = unescape(rest, false);
      else if (!TYPES.has(rest)) throw new Error(`unknown type in ${JSON.stringify(line)}`);
      else f.type = rest;
      current = f;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${JSON.stringify(line)}`);
    const name = m[1]!;
    const owner = current && (SUFFIXES[current.type] ?? ['']).some((s) => name === current!.name + s) ? current : family(name);
    const sample = { name, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3]!, line) };
    const id = `${name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`series twice: ${JSON.stringify(line)}`);
    seen.add(id);
    owner.samples.push(sample);
  }
  agreeWithPublishedParser(text, families);
  return families;
}

const labelsKey = (labels: Record<string, string> = {}) => JSON.stringify(Object.entries(labels).sort());

function agreeWithPublishedParser(text: string, families: Map<string, Family>): void {
  const theirs = parsePrometheusTextFormat(text).filter((f) => f.metrics.length > 0);
  const ours = [...families.values()].filter((f) => f.samples.length > 0);
  const differ = (what: string) => { throw new Error(`parse-prometheus-text-format reads ${what} differently`); };
  const names = (list: { name: string }[]) => new Set(list.map((f) => f.name));
  const [a, b] = [names(theirs), names(ours)];
  const only = [...a].filter((n) => !b.has(n)).concat([...b].filter((n) => !a.has(n)));
  if (only.length) differ(`the family names (${only.join(', ')})`);
  for (const f of theirs) {
    const mine = families.get(f.name)!;
    if (f.type.toLowerCase() !== mine.type) differ(`the type of ${f.name}`);
    if (mine.type === 'histogram' || mine.type === 'summary') {
      // One parsed metric per series: the _count samples name them. That parser folds every
      // series of a histogram or summary into one (it keeps no labels there), so only a family
      // without labels can be compared series by series.
      const counts = mine.samples.filter((s) => s.name === `${f.name}_count`);
      if (counts.some((c) => Object.keys(c.labels).length > 0)) continue;
      if (f.metrics.length !== counts.length) differ(`the series of ${f.name}`);
      for (const m of f.metrics) {
        const count = counts.find((s) => labelsKey(s.labels) === labelsKey(m.labels));
        if (!count || parseValue(m.count ?? '', f.name) !== count.value) differ(`the count of ${f.name}${labelsKey(m.labels)}`);
      }
      continue;
    }
    if (f.metrics.length !== mine.samples.length) differ(`the samples of ${f.name}`);
    for (const m of f.metrics) {
      const sample = mine.samples.find((s) => labelsKey(s.labels) === labelsKey(m.labels));
      const value = parseValue(m.value ?? '', `${f.name}${labelsKey(m.labels)}`);
      if (!sample || !Object.is(value, sample.value)) differ(`the value of ${f.name}${labelsKey(m.labels)}`);
    }
  }
}

/** The value of the series with exactly these labels, undefined when there is none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name) ?? [...families.values()].find((f) => f.samples.some((s) => s.name === name));
  const want = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}
