// JSON text of a serialized expression whose numbers Polars reads back exactly. nodejs-polars
// parses JSON numbers with serde_json's fast float parser, which is not correctly rounded: about
// one 17-digit number in nine comes back one ulp off (a fitted coefficient, a threshold the
// client computed), so an expression would compute something else on the workers than in the
// client (an equality filter on a computed float would miss its rows). That parser turns
// digits D and an exponent E into the double D / 10^-E (or D * 10^E) with the table of powers
// of ten: each non-integer number is written as such digits and exponent that give back the
// same double, found for all but a few numbers in a thousand, which keep JavaScript's shortest
// form (one ulp at worst, as before).

/** serde_json's table: the double nearest to 10^k. */
const POW10 = Array.from({ length: 309 }, (_, k) => Number(`1e${k}`));
const U64_LIMIT = 1n << 64n;

/** What serde_json's lossy path makes of digits `sig` and exponent `exp` (past 10^-308 it first divides by 1e308). */
function serdeValue(sig: bigint, exp: number): number {
  let f = Number(sig);
  if (exp >= 0) return f * POW10[exp]!;
  while (-exp > 308) {
    f /= 1e308;
    exp += 308;
  }
  return f / POW10[-exp]!;
}

/** |v| as num / den exactly (v finite, non-zero). */
function exactRatio(v: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(v));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const [mantissa, exp2] = biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075];
  return exp2 >= 0 ? [mantissa << BigInt(exp2), 1n] : [mantissa, 1n << BigInt(-exp2)];
}

/** Whether the parser reads JavaScript's own shortest form of |v| exactly (0.1, 2.5e-7: most hand-written numbers). */
function shortestIsExact(a: number): boolean {
  const m = /^(\d+)(?:\.(\d+))?(?:e([-+]\d+))?$/.exec(String(a));
  if (!m) return false;
  const sig = BigInt(m[1]! + (m[2] ?? ''));
  const exp = Number(m[3] ?? 0) - (m[2]?.length ?? 0);
  return sig < U64_LIMIT && exp <= 308 && serdeValue(sig, exp) === a;
}

/** A token the parser reads as exactly v: undefined when JavaScript's own is one, or none is found near. */
export function exactToken(v: number): string | undefined {
  const a = Math.abs(v);
  if (shortestIsExact(a)) return undefined;
  const [num, den] = exactRatio(v);
  const first = 15 - Math.floor(Math.log10(a));
  for (let e = first - 1; e <= first + 5; e++) {
    if (e < -308) continue;
    // The digits of |v| * 10^e, rounded, and their neighbours.
    const [n, d] = e >= 0 ? [num * 10n ** BigInt(e), den] : [num, den * 10n ** BigInt(-e)];
    const nearest = (2n * n + d) / (2n * d);
    for (let step = 0n; step <= 8n; step++) {
      for (const sig of step === 0n ? [nearest] : [nearest - step, nearest + step]) {
        if (sig <= 0n || sig >= U64_LIMIT) continue;
        if (serdeValue(sig, -e) === a) return `${v < 0 ? '-' : ''}${sig}e${-e}`;
      }
    }
  }
  return undefined;
}

/** JSON.stringify(value), its numbers other than safe integers written as exactToken finds them. */
export function exactJson(value: unknown): string {
  const marker = `\u0000${Math.random().toString(36).slice(2)}:`;
  let marked = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (Object.is(v, -0)) {
      marked = true;
      return `${marker}-0.0`; // JSON.stringify writes 0
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || Number.isSafeInteger(v)) return v;
    const token = exactToken(v);
    if (token === undefined) return v;
    marked = true;
    return marker + token;
  });
  if (!marked) return text;
  // The marker is a NUL and a random tag: no string of the expression holds it.
  const quoted = JSON.stringify(marker).slice(1, -1);
  return text.replaceAll(new RegExp(`"${quoted.replace(/\\/g, '\\\\')}([-0-9e.]+)"`, 'g'), '$1');
}
