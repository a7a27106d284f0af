// Arrow tables made by another copy of apache-arrow (a second node_modules, another version):
// Arrow's IPC writer recognises column types with `instanceof`, so it would write such a table
// wrong. The table is re-wrapped with the loaded module's classes; its buffers are shared, not
// copied. Only types (not data) are rebuilt, by class name, so the copies must agree on Arrow's
// in-memory layout (one version apart or the same; tested with two copies of one version).
import type * as Arrow from 'apache-arrow';
import { ValueEncodingError } from './errors.js';

export function isForeignTable(table: Arrow.Table, arrow: typeof Arrow): boolean {
  return !table.schema.fields.every((f) => f.type instanceof arrow.DataType);
}

/** `table` built from `arrow`'s own classes; throws ValueEncodingError naming `where` if a type is unknown. */
export function adoptForeignTable(table: Arrow.Table, arrow: typeof Arrow, where: string): Arrow.Table {
  const classes = arrow as unknown as Record<string, unknown>;
  const adoptType = (type: Arrow.DataType): Arrow.DataType => {
    if ((type as unknown) instanceof arrow.DataType) return type;
    const name = (type.constructor as { name?: string }).name ?? '';
    const Class = classes[name];
    if (typeof Class !== 'function' || !((Class.prototype as unknown) instanceof arrow.DataType)) {
      throw new ValueEncodingError(`${where} is an Arrow Table from another copy of apache-arrow with a column type (${name || 'unnamed'}) this copy does not know: build it with the apache-arrow kubedask loads, or send tableToIPC(table) bytes`);
    }
    const adopted = Object.assign(Object.create(Class.prototype as object) as object, type) as unknown as Record<string, unknown>;
    const parts = type as unknown as { children?: Arrow.Field[]; dictionary?: Arrow.DataType; indices?: Arrow.DataType };
    if (parts.children) adopted.children = parts.children.map(adoptField);
    if (parts.dictionary) adopted.dictionary = adoptType(parts.dictionary);
    if (parts.indices) adopted.indices = adoptType(parts.indices);
    return adopted as unknown as Arrow.DataType;
  };
  const adoptField = (f: Arrow.Field): Arrow.Field => new arrow.Field(f.name, adoptType(f.type), f.nullable, f.metadata);
  const adoptData = (d: Arrow.Data): Arrow.Data => Object.assign(Object.create(arrow.Data.prototype) as Arrow.Data, d, {
    type: adoptType(d.type),
    children: d.children.map(adoptData),
    dictionary: d.dictionary ? new arrow.Vector(d.dictionary.data.map(adoptData)) : d.dictionary,
  });
  const schema = new arrow.Schema(table.schema.fields.map(adoptField), table.schema.metadata);
  return new arrow.Table(schema, table.batches.map((b) => new arrow.RecordBatch(schema, adoptData(b.data) as Arrow.Data<Arrow.Struct>)));
}
