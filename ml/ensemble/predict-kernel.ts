// The worker side of a fitted ensemble's predictions (predict-frame.ts makes the lazy frame):
// ml/gbdt-predict runs the trees over a partition where it is, the model parsed once per worker
// (by its hash). It imports nothing of the client's: a worker loads it with the other ml kernels.
import pl from 'nodejs-polars';
import type { Op } from '../../dataframe/plan/nodes.js';
import type { StageParams } from '../../dataframe/plan/tasks.js';
import { nativeFrame } from '../../dataframe/kernels/frames.js';
import { runPost, runStage } from '../../dataframe/kernels/stage.js';
import type { Kernel } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { floats } from '../core/build-shard.js';
import { rawScores, type Ensemble } from './ensemble.js';
import { probabilities } from './score.js';

/** label: a classifier's class; proba: its probabilities; value: a regressor's prediction. */
export type PredictOutput = 'label' | 'proba' | 'value';

interface PredictParams {
  modelHash: string;
  features: string[];
  output: PredictOutput;
  stage: StageParams;
  post: Op[];
}

interface Model { ensemble: Ensemble; classes: number[] }

/** Parsed models by hash: a worker parses each once. */
const models = new Map<string, Model>();
const KEPT_MODELS = 8;

function modelOf(hash: string, value: StoredValue, key: string): Model {
  let model = models.get(hash);
  if (!model) {
    if (!('data' in value)) throw new Error(`task ${key}: its model input is not bytes`);
    model = JSON.parse(new TextDecoder().decode(value.data)) as Model;
    if (models.size >= KEPT_MODELS) models.delete(models.keys().next().value!);
    models.set(hash, model);
  }
  return model;
}

export const predictTrees: Kernel = async (params, inputs, context) => {
  const p = params as PredictParams;
  const frame = await runStage(p.stage, inputs.slice(0, -1), context.key);
  const { ensemble, classes } = modelOf(p.modelHash, inputs.at(-1)!, context.key);
  const rows = frame.height;
  const raw = rawScores(ensemble, p.features.map((f) => floats(frame, f)), rows);
  const k = ensemble.baseline.length;
  let columns: pl.Series[];
  if (p.output === 'value') {
    columns = [pl.Series('prediction', raw, pl.Float64)];
  } else {
    const proba = classes.map(() => new Float64Array(rows));
    const label = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const pr = probabilities(ensemble.loss, raw, k, rows, i);
      let best = 0;
      pr.forEach((v, c) => { proba[c]![i] = v; if (v > pr[best]!) best = c; });
      label[i] = classes[best]!;
    }
    columns = p.output === 'label' ? [pl.Series('prediction', label, pl.Float64)] : proba.map((v, c) => pl.Series(`proba_${c}`, v, pl.Float64));
  }
  return nativeFrame(await runPost(frame.withColumns(...columns), p.post));
};
