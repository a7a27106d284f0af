// A fitted ensemble's predictions as a lazy DataFrame: a kernel node (ml/gbdt-predict,
// predict-kernel.ts) that runs the trees over each partition where it is, the model scattered
// once as JSON bytes.
import pl from 'nodejs-polars';
import { DataFrame } from '../../dataframe/frame.js';
import { planSchema, type PlSchema } from '../../dataframe/schema.js';
import type { PredictOutput } from './predict-kernel.js';

let modelSeq = 0;

/** The prediction columns of X: `prediction`, or proba_0 ... proba_{classes-1}. */
export function predictFrame(X: DataFrame, model: Uint8Array, modelHash: string, features: string[], output: PredictOutput, outputs: number, classes: number): DataFrame {
  const columns = output === 'proba' ? Array.from({ length: classes }, (_, c) => `proba_${c}`) : ['prediction'];
  const taken = columns.filter((c) => X.columns.includes(c));
  const input = taken.length ? X.drop(...taken) : X;
  const added: PlSchema = Object.fromEntries(columns.map((c) => [c, pl.Float64]));
  const outSchema: PlSchema = { ...input.schema, ...added };
  const modelKey = `gbdt-model-${++modelSeq}`;
  const frame = DataFrame.fromPlan(
    {
      kind: 'kernel', input: input.plan, schema: planSchema(outSchema),
      call: {
        kernel: 'ml/gbdt-predict', what: 'predict-trees', params: { modelHash, features, output, outputs }, extraInputs: [modelKey],
        reads: features, added: planSchema(added), resources: null, stayWithData: true,
      },
    },
    outSchema, new Map([...input.bindings, [modelKey, { bytes: model }]]), input.functions,
  );
  return frame.select(...columns);
}
