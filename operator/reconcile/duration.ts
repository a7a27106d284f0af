// Go-style durations as Kubernetes fields use them ("90s", "5m", "1h30m"), to milliseconds.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, field: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!text || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`${field}: "${text}" is not a duration such as 30s, 5m or 1h30m`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}
