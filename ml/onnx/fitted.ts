// What a fitted estimator hands the ONNX exporter: plain numbers in scikit-learn's meaning, so
// the exporter depends on no estimator class. A Pipeline hands over its steps in order.
import type { FeatureBins } from '../ensemble/binning.js';
import type { TreeModel } from '../ensemble/ensemble.js';
import type { LossKind } from '../ensemble/losses.js';

export type FittedStep =
  /** (x - mean) / scale per feature (scale 1 where sklearn's scale_ is 1 for a constant feature). */
  | { kind: 'standard-scaler'; mean: number[]; scale: number[] }
  /** x * scale + min per feature (sklearn's scale_ and min_). */
  | { kind: 'min-max-scaler'; scale: number[]; min: number[] }
  /** NaN -> statistics[j] per feature. */
  | { kind: 'simple-imputer'; statistics: number[] }
  /** z = x . coef + intercept; `link: 'log'` predicts exp(z) (PoissonRegression). */
  | { kind: 'linear-regressor'; coef: number[]; intercept: number; link: 'identity' | 'log' }
  /**
   * Binary: coef has one row (the positive class), scores sigmoid(z); multinomial: one row per
   * class, softmax. Outputs: label (classes[argmax]) and probabilities [N, nClasses].
   */
  | { kind: 'linear-classifier'; coef: number[][]; intercept: number[]; classes: number[]; multiClass: 'binary' | 'multinomial' }
  /** Outputs: label (index of the nearest center) and the squared distances [N, k]. */
  | { kind: 'kmeans'; centers: number[][] }
  /**
   * Gradient-boosted trees (ml/ensemble/ensemble.ts): raw scores = baseline + the trees' leaf
   * values; loss 'squared' predicts the raw score, 'binary' sigmoid, 'multinomial' softmax over
   * one score per class. `bins` tells which features are categorical (and their categories).
   */
  | { kind: 'tree-ensemble'; loss: LossKind; baseline: number[]; trees: TreeModel[]; bins: FeatureBins[]; classes?: number[] };

/** An estimator (or Pipeline) that can be exported. */
export interface OnnxExportable {
  /** Its fitted steps in order; throws a clear error when not fitted or not exportable. */
  onnxSteps(): FittedStep[];
}
