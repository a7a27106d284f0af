// Logistic regression, binary and multinomial (softmax for 3+ classes, as scikit-learn >= 1.5),
// with L2, no, L1 or elastic-net penalty. scikit-learn's objective:
//   C * sum_i loss_i + (1 - l1Ratio)/2 ||coef||^2 + l1Ratio ||coef||_1   (intercept not penalised)
// minimised here divided by C*n (the same optimum), so tol reads on the mean loss's scale.
import type { DataFrame } from '../../dataframe/frame.js';
import type { Classifier, FitOptions, Target, ShardFitter, ShardInput } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { MlParamError, MlDataError } from '../errors.js';
import { admm } from './admm.js';
import { fitted, knownParams, labelExpr, linearExpr, nonNegative, oneOf, positive, positiveInteger, requireFeatures, scoreOn, sigmoidExpr, softmaxExprs } from './common.js';
import { glmObjective, identifyMultinomial, isCoef, stride, unpack, type GlmShape } from './glm.js';
import { lbfgs, newton } from './optimize.js';
import type { ClassifierScoreParams, ClassifierScoreSums } from '../kernels/classifier-score.js';
import { aucFromScoreCounts } from '../metrics/from-counts.js';

/** What scoreShards computes. */
export type ShardClassifierScoring = 'accuracy' | 'neg_log_loss' | 'roc_auc';
import pl from 'nodejs-polars';

export interface LogisticRegressionParams {
  penalty: 'l2' | 'none' | 'l1' | 'elasticnet';
  /** Inverse regularisation strength, as scikit-learn's C. */
  C: number;
  /** elasticnet's share of L1 (0: L2 only, 1: L1 only). */
  l1Ratio: number;
  fitIntercept: boolean;
  /** The smooth solver; with 'l1' / 'elasticnet', the solver of ADMM's smooth step. */
  solver: 'lbfgs' | 'newton';
  /** Solver iterations (ADMM's outer iterations for L1 / elastic-net). */
  maxIter: number;
  tol: number;
}

const DEFAULTS: LogisticRegressionParams = { penalty: 'l2', C: 1, l1Ratio: 0.5, fitIntercept: true, solver: 'lbfgs', maxIter: 100, tol: 1e-4 };
const NAME = 'LogisticRegression';

export class LogisticRegression implements Classifier, OnnxExportable, ShardFitter {
  readonly shardInput: ShardInput = { y: 'required', classify: true };
  readonly params: Readonly<LogisticRegressionParams>;
  /** One row per class (multinomial) or one row for the positive class (binary), as scikit-learn's coef_. */
  coef: number[][] | undefined;
  intercept: number[] | undefined;
  classes: number[] | undefined;
  featureNames: string[] | undefined;
  nIter: number | undefined;
  /** false when maxIter ran out first (scikit-learn warns then): the coefficients are usable but not optimal. */
  converged: boolean | undefined;

  constructor(params: Partial<LogisticRegressionParams> = {}) {
    knownParams(NAME, params, DEFAULTS);
    const p = { ...DEFAULTS, ...params };
    oneOf(NAME, 'penalty', p.penalty, ['l2', 'none', 'l1', 'elasticnet']);
    oneOf(NAME, 'solver', p.solver, ['lbfgs', 'newton']);
    if (p.penalty !== 'none') positive(NAME, 'C', p.C);
    if (p.penalty === 'elasticnet' && !(p.l1Ratio >= 0 && p.l1Ratio <= 1)) throw new MlParamError(`${NAME}: l1Ratio must be in [0, 1], got ${p.l1Ratio}`);
    positiveInteger(NAME, 'maxIter', p.maxIter);
    nonNegative(NAME, 'tol', p.tol);
    this.params = p;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new LogisticRegression({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    if (y === undefined) throw new MlDataError(`${NAME}: fit needs y (the class labels)`);
    const { shards, meta } = await toShards(X, y, { ...options, classify: true, caller: NAME });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  /** Fits on shards can start from another fitted LogisticRegression's solution (see fitShards). */
  readonly warmStarts = true;

  /**
   * The numeric fit, on shards whose y holds class indices into meta.classes; from `start`'s
   * coefficients when it is fitted on the same classes and features (a warm start, as
   * scikit-learn's warm_start: the same optimum, in fewer iterations when it is near).
   */
  async fitShards(shards: Shards, meta: ShardsMeta, start?: LogisticRegression): Promise<this> {
    const classes = meta.classes;
    if (!classes || classes.length < 2) throw new MlDataError(`${NAME}: y needs at least 2 classes, got ${classes?.length ?? 0}${classes?.length ? ` (${classes.join(', ')})` : ''}`);
    const binary = classes.length === 2;
    const shape: GlmShape = { family: binary ? 'binomial' : 'multinomial', k: binary ? 1 : classes.length, p: meta.features.length, fitIntercept: this.params.fitIntercept };
    const { penalty, C, tol, maxIter } = this.params;
    const n = shards.nRows;
    const l1Share = penalty === 'l1' ? 1 : penalty === 'elasticnet' ? this.params.l1Ratio : 0;
    const scale = penalty === 'none' ? 0 : 1 / (C * n);
    const solve = this.params.solver === 'newton' ? newton : lbfgs;
    const w0 = new Float64Array(shape.k * stride(shape));
    if (start?.coef && start.coef.length === shape.k && sameList(start.classes, classes) && sameList(start.featureNames, meta.features) && (start.params.fitIntercept === shape.fitIntercept)) {
      start.coef.forEach((row, c) => {
        row.forEach((v, j) => { w0[c * stride(shape) + j] = v; });
        if (shape.fitIntercept) w0[c * stride(shape) + shape.p] = start.intercept![c]!;
      });
    }
    // The smooth part: the loss and the L2 share of the penalty; ADMM adds the L1 share.
    const smooth = glmObjective(NAME, shards, shape, (1 - l1Share) * scale, penalty === 'none');
    const result = l1Share > 0
      ? await admm(smooth, w0, { maxIter, tol, l1: l1Share * scale, isCoef: (i) => isCoef(shape, i), inner: solve })
      : await solve(smooth, w0, { maxIter, tol });
    const { coef, intercept } = unpack(shape, result.w);
    if (!binary) identifyMultinomial(coef, intercept, penalty === 'none');
    Object.assign(this, { coef, intercept, classes: [...classes], featureNames: [...meta.features], nIter: result.nIter, converged: result.converged });
    return this;
  }

  /** The class scores z_k = coef_k . x + intercept_k, one per row of coef. */
  decisionExprs(): pl.Expr[] {
    const coef = fitted(NAME, this.coef, 'decisionExprs');
    return coef.map((row, k) => linearExpr(this.featureNames!, row, this.intercept![k]!));
  }

  predict(X: DataFrame): DataFrame {
    fitted(NAME, this.coef);
    requireFeatures(NAME, X, this.featureNames!);
    return X.select(this.predictExpr().alias('prediction'));
  }

  predictProba(X: DataFrame): DataFrame {
    fitted(NAME, this.coef, 'predictProba');
    requireFeatures(NAME, X, this.featureNames!);
    return X.select(...this.probaExprs().map((e, k) => e.alias(`proba_${k}`)));
  }

  /** The predicted label (classes[argmax]); binary: classes[1] where the score is > 0, as scikit-learn. */
  predictExpr(): pl.Expr {
    return labelExpr(this.decisionExprs(), this.classes!);
  }

  probaExprs(): pl.Expr[] {
    const z = this.decisionExprs();
    if (z.length === 1) return [sigmoidExpr(z[0]!.mul(-1)), sigmoidExpr(z[0]!)];
    return softmaxExprs(z);
  }

  /**
   * Accuracy, log loss (negated) or ROC AUC (binary) on held-out shards whose y indexes
   * meta.classes, computed where they are: a search scores each candidate on a fold's test
   * shards built once. Equal to score(), metrics.logLoss and metrics.rocAucScore on the same rows.
   */
  async scoreShards(shards: Shards, meta: ShardsMeta, scoring: ShardClassifierScoring): Promise<number> {
    const coef = fitted(NAME, this.coef, 'scoreShards');
    if (!sameList(this.featureNames, meta.features)) throw new MlDataError(`${NAME}: scored on features ${meta.features.join(', ')}, but it was fitted on ${this.featureNames!.join(', ')}`);
    const classes = this.classes!;
    const labelMap = (meta.classes ?? []).map((c) => classes.indexOf(c));
    if (scoring === 'roc_auc' && coef.length !== 1) throw new MlDataError(`${NAME}: ROC AUC is computed for binary models; this one has ${classes.length} classes`);
    const params: ClassifierScoreParams = { coef, intercept: this.intercept!, labelMap, eps: Number.EPSILON, ...(scoring === 'roc_auc' ? { counts: true } : {}) };
    const parts = await shards.map<ClassifierScoreSums>('linear/classifier-score', params);
    const n = parts.reduce((a, s) => a + s.n, 0);
    if (n === 0) throw new MlDataError(`${NAME}: no rows to score`);
    if (scoring === 'roc_auc') return aucFromScoreCounts(parts.map((s) => s.counts!), NAME);
    if (scoring === 'neg_log_loss') return -parts.reduce((a, s) => a + s.logLoss, 0) / n;
    return parts.reduce((a, s) => a + s.correct, 0) / n;
  }

  /** Accuracy (y a column of X or a one-column frame). */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    fitted(NAME, this.coef, 'score');
    requireFeatures(NAME, X, this.featureNames!);
    return scoreOn(NAME, X, y, this.predictExpr(), 'accuracy', options);
  }

  onnxSteps(): FittedStep[] {
    const coef = fitted(NAME, this.coef, 'onnxSteps');
    return [{ kind: 'linear-classifier', coef: coef.map((r) => [...r]), intercept: [...this.intercept!], classes: [...this.classes!], multiClass: coef.length === 1 ? 'binary' : 'multinomial' }];
  }
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[]): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}
