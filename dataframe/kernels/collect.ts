// df/collect: a result's partitions concatenated into one Arrow IPC stream, as bytes, for the
// client to read into a Polars frame (compute()).
import pl from 'nodejs-polars';
import type { Kernel } from '../../worker/runtime/builtins.js';
import { Encoding } from '../../protocol/value-codec.js';
import { toFrame } from './frames.js';

export const collect: Kernel = async (_params, inputs, context) => {
  const frames = inputs.map((v, i) => toFrame(v, `partition ${i} of ${context.key}`));
  const whole = frames.length === 1 ? frames[0]! : pl.concat(frames, { how: 'vertical', rechunk: false } as never);
  return { encoding: Encoding.ENCODING_BYTES, data: whole.writeIPCStream({ compression: 'lz4' }) };
};
