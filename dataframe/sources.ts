// Where DataFrames come from: Parquet and CSV files (read by the workers, in row ranges) and
// frames or Arrow tables in this process (sent to the cluster when first computed). File
// metadata (row counts, schemas) is read here, now: a missing file, a glob that matches
// nothing or files whose schemas differ fail before anything runs, naming the file.
import { existsSync } from 'node:fs';
import { tableToIPC, type Table } from 'apache-arrow';
import pl from 'nodejs-polars';
import { isArrowTable } from '../protocol/value-codec.js';
import type { CsvOptions, ScanPart } from './plan/nodes.js';
import { DataFrame, localData } from './frame.js';
import { SourceError, polarsMessage } from './errors.js';
import { expandGlob } from './glob.js';
import { frameSchema, planSchema, schemaDifference, type PlSchema } from './schema.js';

export interface ReadParquetOptions {
  /** Only these columns are read. */
  columns?: string[];
  /** Rows per partition at most (default 1,000,000): a big file becomes several partitions. */
  partitionRows?: number;
}

export interface ReadCsvOptions extends ReadParquetOptions, CsvOptions {}

const DEFAULT_PARTITION_ROWS = 1_000_000;

export function readParquet(globOrPaths: string | string[], options: ReadParquetOptions = {}): DataFrame {
  return readFiles('readParquet', 'parquet', globOrPaths, options, (path) => pl.scanParquet(path));
}

export function readCsv(globOrPaths: string | string[], options: ReadCsvOptions = {}): DataFrame {
  const { columns: _columns, partitionRows: _rows, separator, ...rest } = options;
  const csv: CsvOptions = separator === undefined ? rest : { ...rest, sep: separator }; // Polars' name for it
  for (const [name, value] of Object.entries(csv)) {
    // The options travel to the workers in the plan, as JSON: Polars dtypes (schema) cannot.
    if (!isPlainJson(value)) throw new SourceError(`readCsv: option ${name} cannot be sent to the workers (only strings, numbers, booleans, arrays and plain objects of them can); to type columns, cast them after reading: withColumns(pl.col(name).cast(dtype))`);
  }
  return readFiles('readCsv', 'csv', globOrPaths, options, (path) => pl.scanCSV(path, csv as never), csv);
}

export interface FromFrameOptions {
  /** How many partitions to cut the frame into (default 1). */
  partitions?: number;
}

/** A DataFrame of a Polars frame of this process, cut into row ranges. */
export function fromPolars(df: pl.DataFrame, options: FromFrameOptions = {}): DataFrame {
  const n = options.partitions ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new SourceError(`fromPolars: partitions must be a positive integer, got ${n}`);
  const per = Math.ceil(df.height / n);
  const parts = Array.from({ length: n }, (_, i) => df.slice(i * per, Math.max(0, Math.min(per, df.height - i * per))));
  return localData(parts, frameSchema(df));
}

/** A DataFrame of an Apache Arrow table of this process (read through its IPC form). */
export function fromArrow(table: Table, options: FromFrameOptions = {}): DataFrame {
  if (!isArrowTable(table)) throw new SourceError('fromArrow: expected an Apache Arrow Table');
  return fromPolars(pl.readIPCStream(Buffer.from(tableToIPC(table, 'stream'))), options);
}

function isPlainJson(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return typeof value !== 'number' || Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isPlainJson);
}

function readFiles(
  what: string, format: 'parquet' | 'csv', globOrPaths: string | string[], options: ReadParquetOptions,
  scan: (path: string) => pl.LazyDataFrame, csv: CsvOptions = {},
): DataFrame {
  const partitionRows = options.partitionRows ?? DEFAULT_PARTITION_ROWS;
  if (!Number.isInteger(partitionRows) || partitionRows < 1) throw new SourceError(`${what}: partitionRows must be a positive integer, got ${partitionRows}`);
  const patterns = Array.isArray(globOrPaths) ? globOrPaths : [globOrPaths];
  if (patterns.length === 0) throw new SourceError(`${what}: no files given`);
  const paths = patterns.flatMap((pattern) => {
    const matched = expandGlob(pattern);
    if (matched.length === 0) throw new SourceError(`${what}: no file matches ${pattern}`);
    for (const path of matched) if (!existsSync(path)) throw new SourceError(`${what}: no such file: ${path}`);
    return matched;
  });
  let schema: PlSchema | undefined;
  let first = '';
  const parts: ScanPart[] = [];
  for (const path of paths) {
    let fileSchema: PlSchema;
    let rows: number;
    try {
      const lf = scan(path);
      fileSchema = frameSchema(lf.head(0).collectSync());
      rows = Number(lf.select(pl.len()).collectSync().getColumn('len').get(0));
    } catch (err) {
      throw new SourceError(`${what}: cannot read ${path}: ${polarsMessage(err)}`, { cause: err });
    }
    if (!schema) [schema, first] = [fileSchema, path];
    else {
      const diff = schemaDifference(schema, fileSchema);
      if (diff) throw new SourceError(`${what}: ${first} and ${path} have different schemas: ${diff}`);
    }
    for (let offset = 0; offset < rows || offset === 0; offset += partitionRows) {
      parts.push({ path, offset, rows: Math.min(partitionRows, rows - offset) });
      if (rows === 0) break;
    }
  }
  let columns: string[] | null = null;
  if (options.columns) {
    const unknown = options.columns.filter((c) => !(c in schema!));
    if (unknown.length) throw new SourceError(`${what}: no column ${unknown.map((c) => `"${c}"`).join(', ')} in ${first}; its columns: ${Object.keys(schema!).join(', ')}`);
    columns = [...options.columns];
    schema = Object.fromEntries(columns.map((c) => [c, schema![c]!]));
  }
  const node = format === 'csv'
    ? { kind: 'scan' as const, format, parts, schema: planSchema(schema!), columns, predicate: null, csv }
    : { kind: 'scan' as const, format, parts, schema: planSchema(schema!), columns, predicate: null };
  return DataFrame.fromPlan(node, schema!);
}
