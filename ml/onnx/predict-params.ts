// What a predictOnnx task carries (the onnx/predict kernel's parameters): which columns feed
// which model input, which outputs become which columns. Plain JSON; the model itself is the
// task's last input (scattered once), known by its hash.
import type { Op } from '../../dataframe/plan/nodes.js';
import type { StageParams } from '../../dataframe/plan/tasks.js';
import type { ElemType } from './inspect.js';

export type Device = 'cpu' | 'cuda';

export interface Feed {
  /** The model input's name. */
  name: string;
  /** Its columns, in row-major order of the tensor's dimensions after the first. */
  columns: string[];
  elemType: Extract<ElemType, 'float32' | 'float64' | 'int64' | 'int32'>;
  /** The dimensions after the batch one ([] for [N]); their product is columns.length. */
  dims: number[];
  /** A batch size the model fixes (e.g. 1), or null when it is free. */
  fixedBatch: number | null;
  /** One list column holds each row's whole tensor (an embedding, a window of samples). */
  vector: boolean;
}

export interface Fetch {
  /** The model output's name. */
  name: string;
  /** The columns it becomes: one for [N] or [N, 1], `<name>_0` ... for [N, k]. */
  columns: string[];
  elemType: ElemType;
}

export interface PredictParams {
  /** sha256 of the model bytes: sessions are cached by it. */
  modelHash: string;
  feeds: Feed[];
  fetches: Fetch[];
  batchSize: number;
  device: Device;
  /** The partition, made from the task's inputs but the last (set by the lowering). */
  stage: StageParams;
  /** The per-partition ops after the scoring, run on its output in this task (set by the lowering). */
  post: Op[];
}
