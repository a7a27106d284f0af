// The wrappers hand predict, predictProba, transform, score and onnxSteps to the estimator they
// wrap; one it lacks is a clear error, not "undefined is not a function".
import type { DataFrame } from '../../dataframe/frame.js';
import type { Estimator, FitOptions, Target } from '../core/estimator.js';
import type { FittedStep } from '../onnx/fitted.js';
import { MlError } from '../errors.js';

export interface Wrappable extends Estimator {
  predict?(X: DataFrame): DataFrame;
  predictProba?(X: DataFrame): DataFrame;
  transform?(X: DataFrame): DataFrame;
  score?(X: DataFrame, y: Target, options?: FitOptions): Promise<number>;
  onnxSteps?(): FittedStep[];
}

type Method = 'predict' | 'predictProba' | 'transform' | 'score' | 'onnxSteps';

export function delegate<M extends Method>(wrapper: string, estimator: Wrappable, method: M): NonNullable<Wrappable[M]> {
  const fn = estimator[method];
  if (typeof fn !== 'function') throw new MlError(`${wrapper}: the wrapped ${estimator.constructor.name} has no ${method}`);
  return fn.bind(estimator) as NonNullable<Wrappable[M]>;
}
