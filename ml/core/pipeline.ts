// Pipeline: transformers then a final estimator, as scikit-learn's. fit fits each transformer and
// feeds its (lazy) output to the next, then fits the last step on the transformed DataFrame;
// predict, predictProba, transform and score run the transforms and delegate to the last step,
// so the whole chain is one lazy plan per partition. y given as a column of X is taken out of
// X first and follows it as a one-column DataFrame of the same partitions. A chain of shard
// transformers (the scalers) before a shard-fitted estimator is fitted on shards built once:
// each transformer is fitted on them and then applied to them where they are (fitOnShards).
import type { DataFrame } from '../../dataframe/frame.js';
import { MlDataError, MlParamError } from '../errors.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { isShardFitter, isShardTransformer, type Classifier, type Estimator, type FitOptions, type Predictor, type ShardFitter, type ShardTransformer, type Target, type Transformer } from './estimator.js';
import { toShards, type ShardsMeta } from './to-shards.js';
import type { Shards } from './shards.js';

export type PipelineStep = [name: string, estimator: Estimator | 'passthrough'];

export class Pipeline implements Transformer, Classifier, OnnxExportable {
  readonly steps: PipelineStep[];

  constructor(steps: PipelineStep[]) {
    if (!Array.isArray(steps) || steps.length === 0) throw new MlParamError('Pipeline: give at least one [name, estimator] step');
    const names = new Set<string>();
    steps.forEach(([name, estimator], i) => {
      if (typeof name !== 'string' || name === '' || name.includes('__')) throw new MlParamError(`Pipeline: step ${i} needs a name without "__", got ${JSON.stringify(name)}`);
      if (names.has(name)) throw new MlParamError(`Pipeline: two steps are named "${name}"`);
      names.add(name);
      if (estimator === 'passthrough') return;
      if (typeof estimator?.fit !== 'function') throw new MlParamError(`Pipeline: step "${name}" is not an estimator (it has no fit)`);
      if (i < steps.length - 1 && typeof (estimator as Transformer).transform !== 'function') throw new MlParamError(`Pipeline: step "${name}" is not the last, so it must be a transformer (it has no transform)`);
    });
    this.steps = steps.map(([n, e]) => [n, e]);
  }

  /** The steps by name. */
  get namedSteps(): Record<string, Estimator | 'passthrough'> {
    return Object.fromEntries(this.steps);
  }

  get classes(): number[] | undefined {
    const last = this.last();
    return last === 'passthrough' ? undefined : (last as Partial<Classifier>).classes;
  }

  getParams(): Record<string, unknown> {
    const out: Record<string, unknown> = { steps: this.steps };
    for (const [name, e] of this.steps) if (e !== 'passthrough') for (const [k, v] of Object.entries(e.getParams())) out[`${name}__${k}`] = v;
    return out;
  }

  /** New, unfitted: `<step>__<param>` sets a step's parameter (each step unfitted too). */
  withParams(params: Record<string, unknown>): this {
    const nested = new Map<string, Record<string, unknown>>();
    for (const [k, v] of Object.entries(params)) {
      const at = k.indexOf('__');
      const step = at < 0 ? undefined : k.slice(0, at);
      if (step === undefined || !this.steps.some(([n]) => n === step)) throw new MlParamError(`Pipeline: parameter "${k}" names no step; write <step>__<param> with a step of ${this.steps.map(([n]) => n).join(', ')}`);
      nested.set(step, { ...nested.get(step), [k.slice(at + 2)]: v });
    }
    return new Pipeline(this.steps.map(([n, e]) => [n, e === 'passthrough' ? e : e.withParams(nested.get(n) ?? {})])) as this;
  }

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    const [Xin, yt] = splitTarget(X, y);
    const chain = shardChain(this.steps, yt !== undefined);
    if (chain) {
      await fitOnShards(chain, Xin, yt, options);
      return this;
    }
    let Xt = Xin;
    for (const [, step] of this.steps.slice(0, -1)) {
      if (step === 'passthrough') continue;
      await step.fit(Xt, yt, options);
      Xt = (step as Transformer).transform(Xt);
    }
    const last = this.last();
    if (last !== 'passthrough') await last.fit(Xt, yt, options);
    return this;
  }

  transform(X: DataFrame): DataFrame {
    const last = this.last();
    if (last !== 'passthrough' && typeof (last as Transformer).transform !== 'function') throw new MlParamError(`Pipeline: its last step "${this.steps.at(-1)![0]}" is not a transformer`);
    const Xt = this.transformUpToLast(X);
    return last === 'passthrough' ? Xt : (last as Transformer).transform(Xt);
  }

  predict(X: DataFrame): DataFrame {
    return this.lastAs<Predictor>('predict').predict(this.transformUpToLast(X));
  }

  predictProba(X: DataFrame): DataFrame {
    return this.lastAs<Classifier>('predictProba').predictProba(this.transformUpToLast(X));
  }

  async score(X: DataFrame, y: Target, options: FitOptions = {}): Promise<number> {
    const [Xs, ys] = splitTarget(X, y);
    return this.lastAs<Predictor>('score').score(this.transformUpToLast(Xs), ys!, options);
  }

  /** The steps' ONNX steps, in order ('passthrough' adds none). */
  onnxSteps(): FittedStep[] {
    return this.steps.flatMap(([name, e]) => {
      if (e === 'passthrough') return [];
      if (typeof (e as Partial<OnnxExportable>).onnxSteps !== 'function') throw new MlParamError(`Pipeline: step "${name}" (${e.constructor.name}) cannot be exported to ONNX`);
      return (e as unknown as OnnxExportable).onnxSteps();
    });
  }

  private last(): Estimator | 'passthrough' {
    return this.steps.at(-1)![1];
  }

  private lastAs<T extends Estimator>(method: keyof T & string): T {
    const [name, last] = this.steps.at(-1)!;
    if (last === 'passthrough' || typeof (last as unknown as Record<string, unknown>)[method] !== 'function') throw new MlParamError(`Pipeline: its last step "${name}" has no ${method}`);
    return last as T;
  }

  private transformUpToLast(X: DataFrame): DataFrame {
    let Xt = X;
    for (const [, step] of this.steps.slice(0, -1)) if (step !== 'passthrough') Xt = (step as Transformer).transform(Xt);
    return Xt;
  }
}

interface ShardChain {
  transformers: ShardTransformer[];
  last: ShardFitter;
}

/**
 * The steps as transformers and a last step that can all be fitted on one set of shards; undefined
 * when some cannot (they are fitted one after the other on DataFrames), or when there is no
 * transformer to save a pass for, or y does not suit the last step (its own fit says why).
 */
function shardChain(steps: PipelineStep[], hasY: boolean): ShardChain | undefined {
  const used = steps.map(([, e]) => e).filter((e): e is Estimator => e !== 'passthrough');
  const last = steps.at(-1)![1];
  if (last === 'passthrough' || !isShardFitter(last)) return undefined;
  const transformers = used.slice(0, -1);
  if (transformers.length === 0 || !transformers.every(isShardTransformer)) return undefined;
  const yRule = last.shardInput.y;
  if ((yRule === 'required' && !hasY) || (yRule === 'refused' && hasY)) return undefined;
  return { transformers, last };
}

/** The chain fitted on shards of X (and y, when the last step takes it) built once. */
async function fitOnShards(chain: ShardChain, X: DataFrame, y: DataFrame | undefined, options: FitOptions): Promise<void> {
  await withTransformedShards(chain, X, y, options, (shards, meta) => chain.last.fitShards(shards, meta));
}

/**
 * Builds shards of X (and y, when the chain's last step takes it), fits each transformer on them
 * and applies it where they are, then runs `use` on the transformed shards; they are released
 * after, whatever happens.
 */
async function withTransformedShards<T>(
  chain: ShardChain, X: DataFrame, y: DataFrame | undefined, options: FitOptions, use: (shards: Shards, meta: ShardsMeta) => Promise<T>,
): Promise<T> {
  const { last } = chain;
  const caller = `Pipeline (${[...chain.transformers, last].map((e) => e.constructor.name).join(', ')})`;
  const built = await toShards(X, last.shardInput.y === 'required' ? y : undefined, { ...options, classify: last.shardInput.classify, caller });
  const { meta } = built;
  let { shards } = built;
  try {
    for (const step of chain.transformers) {
      await step.fitShards(shards, meta);
      shards = await throughStep(shards, step);
    }
    return await use(shards, meta);
  } finally {
    await shards.release();
  }
}

/** Shards transformed by a fitted step where they are (derive); the input shards are let go. */
export async function throughStep(shards: Shards, step: ShardTransformer): Promise<Shards> {
  const { kernel, params } = step.shardTransform();
  const next = shards.derive(kernel, params);
  await shards.release();
  return next;
}

/** A shard fitter whose fit can start from another fitted one of its class (LogisticRegression). */
interface WarmStartable extends ShardFitter {
  readonly warmStarts: true;
  fitShards(shards: Shards, meta: ShardsMeta, start?: ShardFitter): Promise<unknown>;
}

/** One fitted pipeline, or why its fit failed; `seconds`: its last step's fit plus its share of the common part. */
export type SharedFit = ({ pipeline: Pipeline } | { error: unknown }) & { seconds: number };

/**
 * Fits pipelines that differ only in their last step's parameters, on shards of X built once:
 * the first one's transformers are fitted and applied to the shards once, and each last step is
 * fitted on the transformed shards (up to `concurrency` at once). The pipelines returned share
 * those fitted transformers. With `warmStart`, last steps that can start from another's solution
 * (LogisticRegression) are fitted one after another in the order given, each from the one
 * before (a regularisation path: the same optima in fewer iterations). A last step's failure is
 * its own; a failure before (building the shards, a transformer) throws. Undefined when the
 * steps cannot all be fitted on shards (fit each pipeline then).
 */
export async function fitSharingPrefix(
  pipelines: readonly Pipeline[], X: DataFrame, y: Target | undefined, options: FitOptions, concurrency: number, warmStart = false,
  /** Told of each outcome as it comes (a search scores a candidate while the next fits); false: start no more fits. */
  each: (i: number, fit: SharedFit) => boolean | void = () => undefined,
): Promise<SharedFit[] | undefined> {
  const [Xin, yt] = splitTarget(X, y);
  const first = pipelines[0];
  const chain = first && shardChain(first.steps, yt !== undefined);
  const lasts = pipelines.map((p) => shardChain(p.steps, yt !== undefined)?.last);
  if (!chain || lasts.some((l) => l === undefined || l.shardInput.y !== chain.last.shardInput.y || l.shardInput.classify !== chain.last.shardInput.classify)) return undefined;
  const t0 = performance.now();
  return withTransformedShards(chain, Xin, yt, options, async (shards, meta) => {
    const common = (performance.now() - t0) / 1000 / pipelines.length;
    const out: SharedFit[] = new Array(pipelines.length);
    let stop = false;
    const fitOne = async (i: number, start?: ShardFitter) => {
      const t1 = performance.now();
      try {
        await (lasts[i] as WarmStartable).fitShards(shards, meta, start);
        out[i] = { pipeline: new Pipeline([...first.steps.slice(0, -1), pipelines[i]!.steps.at(-1)!]), seconds: common + (performance.now() - t1) / 1000 };
      } catch (error) {
        out[i] = { error, seconds: common + (performance.now() - t1) / 1000 };
      }
      if (each(i, out[i]!) === false) stop = true;
      return 'pipeline' in out[i]!;
    };
    if (warmStart && lasts.every((l) => (l as Partial<WarmStartable>).warmStarts === true && l!.constructor === lasts[0]!.constructor)) {
      let start: ShardFitter | undefined;
      for (let i = 0; i < pipelines.length && !stop; i++) start = (await fitOne(i, start)) ? lasts[i] : undefined;
      return out;
    }
    let next = 0;
    const fitter = async () => {
      for (let i = next++; i < pipelines.length && !stop; i = next++) await fitOne(i);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pipelines.length) }, fitter));
    return out;
  });
}

/** y named as a column of X: X without it, and it as a one-column DataFrame of the same partitions. */
function splitTarget(X: DataFrame, y: Target | undefined): [DataFrame, DataFrame | undefined] {
  if (typeof y !== 'string') return [X, y];
  if (!X.columns.includes(y)) throw new MlDataError(`Pipeline: y names column "${y}", which X does not have; its columns are ${X.columns.join(', ')}`);
  return [X.drop(y), X.select(y)];
}
