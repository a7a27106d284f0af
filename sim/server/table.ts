// meta.k8s.io/v1 Table answers for `kubectl get`, lists, single objects and watch events: the
// columns the real server prints for built-in kinds (printers.ts), a CRD's
// additionalPrinterColumns (or Age when it has none), and Name / Created At otherwise.
import { builtinPrinter, CREATED_AT, humanAge, NAME, type Column } from './printers.js';
import type { PrinterColumn, ResourceType } from './resource-types.js';
import { isObject, type KubeObject } from './types.js';

export function wantsTable(accept: string | undefined): boolean {
  return Boolean(accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept));
}

/** Evaluates the simple JSONPath forms printer columns use: `.a.b`, `.a[0].b`. */
function evalPath(obj: unknown, path: string): unknown {
  const tokens = path.replace(/^\{?\.?/, '').replace(/\}$/, '').split(/\.|\[(\d+)\]/).filter((t) => t !== undefined && t !== '');
  let cur = obj;
  for (const t of tokens) {
    if (Array.isArray(cur) && /^\d+$/.test(t)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

const AGE_DEFAULT: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp' };

/** A CRD printer column's cell, as the apiextensions table convertor makes it. */
function crdCell(c: PrinterColumn, obj: KubeObject): unknown {
  const v = evalPath(obj, c.jsonPath);
  if (v === undefined || v === null) return null;
  switch (c.type) {
    case 'date': return typeof v === 'string' ? humanAge(v) : null;
    case 'string': return typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'integer': return typeof v === 'number' && Number.isInteger(v) ? v : null;
    case 'number': return typeof v === 'number' ? v : null;
    case 'boolean': return typeof v === 'boolean' ? v : null;
    default: return v;
  }
}

function columnsOf(t: ResourceType, version: string): Column[] {
  if (t.printerColumns) {
    // A CRD that lists no columns gets Age (serveDefaultColumnsIfEmpty); one that does, only its own.
    const listed = t.printerColumns[version]?.length ? t.printerColumns[version]! : [AGE_DEFAULT];
    return [NAME, ...listed.map((c) => ({ name: c.name, type: c.type, format: c.format, description: c.description, priority: c.priority, cell: (o: KubeObject) => crdCell(c, o) }))];
  }
  return builtinPrinter(t) ?? [NAME, CREATED_AT];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function includeObjectParam(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export interface TableOptions {
  includeObject?: IncludeObject;
  /** Watch events after the first leave the columns out; kubectl keeps the last ones it saw. */
  noHeaders?: boolean;
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'Object') return obj;
  if (include === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(t: ResourceType, version: string, items: KubeObject[], metadata: Record<string, unknown>, opts: TableOptions = {}): Record<string, unknown> {
  const columns = columnsOf(t, version);
  const columnDefinitions = columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }));
  const rows = items.map((obj) => {
    const object = rowObject(obj, opts.includeObject ?? 'Metadata');
    return { cells: columns.map((c) => c.cell(obj) ?? null), ...(object ? { object } : {}) };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, ...(opts.noHeaders ? {} : { columnDefinitions }), rows };
}
