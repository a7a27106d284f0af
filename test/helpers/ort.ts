// Scores an ONNX model in this process with onnxruntime-node, for tests that compare numbers.
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';

/** The model's outputs on float32 rows [N][F] (its one input), as plain numbers with their dims. */
export async function scoreWithOrt(model: Uint8Array, rows: number[][]): Promise<Record<string, { dims: readonly number[]; data: number[] }>> {
  const session = await ort.InferenceSession.create(model);
  try {
    const width = rows[0]!.length;
    const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
    const out = await session.run({ [session.inputNames[0]!]: input });
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) }]));
  } finally {
    await session.release();
  }
}

/** Each value within `tolerance` * (1 + |expected|). */
export function assertClose(actual: number[], expected: number[], what: string, tolerance: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tolerance * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  });
}
