// Adapters a task thread calls a user function through (FunctionDef.adapter), for functions
// whose values are not the ones the wire decodes to. "polars" (DataFrame.mapPartitions): the
// partitions arrive as Arrow IPC streams (Polars frames the worker encoded, lz4-compressed, which
// apache-arrow cannot read) and are handed over as nodejs-polars DataFrames; the DataFrame the
// function returns goes back as Arrow IPC, which the next kernel reads as a frame.
// nodejs-polars is loaded the first time a thread runs such a function.
import type pl from 'nodejs-polars';
import { decodeValue, Encoding, type EncodedValue } from '../../protocol/value-codec.js';

export interface ThreadAdapter {
  /** An argument (a dependency's value or a literal) as the function takes it. */
  decode(encoded: EncodedValue): unknown;
  /** What the function returned, for the wire; `name` is the function's, for errors. */
  encode(value: unknown, name: string): EncodedValue;
}

const loaders: Record<string, () => Promise<ThreadAdapter>> = {
  polars: async () => polarsAdapter((await import('nodejs-polars')).default),
};

const loaded = new Map<string, Promise<ThreadAdapter>>();

/** The adapter called `name`; a failed load is retried by the next task. */
export function loadAdapter(name: string): Promise<ThreadAdapter> {
  let adapter = loaded.get(name);
  if (adapter) return adapter;
  const load = Object.hasOwn(loaders, name) ? loaders[name]! : undefined;
  adapter = load ? load() : Promise.reject(new TypeError(`unknown function adapter "${name}" (this worker knows ${Object.keys(loaders).join(', ')})`));
  adapter.catch(() => loaded.delete(name));
  loaded.set(name, adapter);
  return adapter;
}

function polarsAdapter(polars: typeof pl): ThreadAdapter {
  return {
    decode: (encoded) => {
      // Bytes are a frame the client scattered as its IPC stream (see dataframe/execute.ts).
      if (encoded.encoding !== Encoding.ENCODING_ARROW_IPC && encoded.encoding !== Encoding.ENCODING_BYTES) return decodeValue(encoded);
      const { data } = encoded;
      return polars.readIPCStream(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    },
    encode: (value, name) => {
      if (!isFrame(value)) throw new TypeError(`function ${name} must return a nodejs-polars DataFrame (or a promise of one), got ${describe(value)}`);
      return { encoding: Encoding.ENCODING_ARROW_IPC, data: value.writeIPCStream({ compression: 'lz4' }) };
    },
  };
}

function isFrame(value: unknown): value is pl.DataFrame {
  return typeof value === 'object' && value !== null
    && typeof (value as pl.DataFrame).writeIPCStream === 'function' && typeof (value as pl.DataFrame).lazy === 'function';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return `an object (${(value as object).constructor?.name ?? 'no class'})`;
}
