// Field ownership (metadata.managedFields) and server-side apply. Field sets are the leaf
// paths of an object, lists keyed by their merge key (`k:{"name":"x"}`) or atomic.
import { ApiError } from './errors.js';
import { clone, isObject, jsonEqual, nowIso, type JsonObject, type KubeObject, type ManagedFieldsEntry } from './types.js';

const SEP = '\u0000';
const KEYED_LISTS: Record<string, string> = {
  containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath',
  imagePullSecrets: 'name', conditions: 'type', ownerReferences: 'uid', ports: 'containerPort',
};
/** Field name given to the object itself when merging. */
const ROOT = '$root';
const METADATA_TRACKED = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/**
 * How lists are identified: built-in kinds by their known merge keys; custom resources by their
 * schema's x-kubernetes-list-type (map with list-map-keys, set), atomic otherwise, as upstream.
 */
export interface Shape {
  kind: string;
  custom: boolean;
  schema?: JsonObject;
}

type ListShape = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

function childSchema(s: JsonObject | undefined, key: string): JsonObject | undefined {
  const props = s?.properties;
  if (isObject(props) && isObject(props[key])) return props[key] as JsonObject;
  return isObject(s?.additionalProperties) ? (s.additionalProperties as JsonObject) : undefined;
}

function itemSchema(s: JsonObject | undefined): JsonObject | undefined {
  return isObject(s?.items) ? (s.items as JsonObject) : undefined;
}

function listShape(field: string, items: unknown[], shape: Shape, schema: JsonObject | undefined, inMetadata: boolean): ListShape {
  const hasKeys = (keys: string[]): boolean => keys.length > 0 && items.every((i) => isObject(i) && keys.every((k) => i[k] !== undefined));
  if (inMetadata && field === 'finalizers') return { type: 'set' };
  if (shape.custom && !inMetadata) {
    const listType = schema?.['x-kubernetes-list-type'];
    const keys = (schema?.['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    if (listType === 'map' && hasKeys(keys)) return { type: 'map', keys };
    return listType === 'set' ? { type: 'set' } : { type: 'atomic' };
  }
  const key = field === 'ports' && shape.kind === 'Service' ? 'port' : KEYED_LISTS[field];
  return key && hasKeys([key]) ? { type: 'map', keys: [key] } : { type: 'atomic' };
}

function keyToken(item: JsonObject, keys: string[]): string {
  return `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k]])))}`;
}

function walk(value: unknown, prefix: string[], shape: Shape, schema: JsonObject | undefined, inMetadata: boolean, out: Set<string>): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) {
      const sub = childSchema(schema, k);
      const list = Array.isArray(v) ? listShape(k, v, shape, sub, inMetadata) : undefined;
      if (Array.isArray(v) && list?.type === 'set') {
        for (const item of v) out.add([...prefix, `f:${k}`, `v:${JSON.stringify(item)}`].join(SEP));
      } else if (Array.isArray(v) && list?.type === 'map') {
        for (const item of v as JsonObject[]) walk(item, [...prefix, `f:${k}`, keyToken(item, list.keys)], shape, itemSchema(sub), inMetadata, out);
      } else {
        walk(v, [...prefix, `f:${k}`], shape, sub, inMetadata, out);
      }
    }
    return;
  }
  out.add(prefix.join(SEP));
}

/** Leaf field paths of the parts of an object a manager can own. */
export function fieldSet(obj: KubeObject, subresource: string | undefined, shape: Shape): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (subresource === 'status' ? k !== 'status' : k === 'status') continue;
    if (k === 'metadata') {
      for (const mk of METADATA_TRACKED) if (obj.metadata[mk] !== undefined) walk({ [mk]: obj.metadata[mk] }, ['f:metadata'], shape, undefined, true, out);
      continue;
    }
    walk(v, [`f:${k}`], shape, childSchema(shape.schema, k), false, out);
  }
  return out;
}

function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const token of path.split(SEP)) {
    if (token.startsWith('f:')) cur = isObject(cur) ? cur[token.slice(2)] : undefined;
    else if (token.startsWith('k:')) {
      const key = Object.entries(JSON.parse(token.slice(2)) as JsonObject);
      cur = Array.isArray(cur) ? cur.find((i) => isObject(i) && key.every(([k, v]) => jsonEqual(i[k], v))) : undefined;
    } else if (token.startsWith('v:')) {
      const v = JSON.parse(token.slice(2)) as unknown;
      cur = Array.isArray(cur) && cur.some((i) => jsonEqual(i, v)) ? v : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeAt(obj: JsonObject, path: string): void {
  const tokens = path.split(SEP);
  let list: unknown;
  let parent: unknown = obj;
  for (const token of tokens.slice(0, -1)) {
    list = parent;
    parent = valueAt(parent, token);
  }
  const last = tokens[tokens.length - 1];
  const itemToken = tokens.length >= 2 ? tokens[tokens.length - 2] : '';
  // Giving up a key field of a list-map item gives up the item itself.
  if (last.startsWith('f:') && itemToken.startsWith('k:') && Array.isArray(list) && last.slice(2) in (JSON.parse(itemToken.slice(2)) as JsonObject)) {
    const i = list.indexOf(parent);
    if (i >= 0) list.splice(i, 1);
    return;
  }
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  if (last.startsWith('v:') && Array.isArray(parent)) {
    const v = JSON.parse(last.slice(2)) as unknown;
    const i = parent.findIndex((x) => jsonEqual(x, v));
    if (i >= 0) parent.splice(i, 1);
  }
}

export function toFieldsV1(fields: Set<string>): JsonObject {
  const root: JsonObject = {};
  for (const path of fields) {
    let node = root;
    for (const token of path.split(SEP)) {
      if (!isObject(node[token])) node[token] = token.startsWith('k:') ? { '.': {} } : {};
      node = node[token] as JsonObject;
    }
  }
  return root;
}

export function fromFieldsV1(v1: JsonObject, prefix: string[] = [], out = new Set<string>()): Set<string> {
  const children = Object.keys(v1).filter((k) => k !== '.');
  if (children.length === 0 && prefix.length > 0) out.add(prefix.join(SEP));
  for (const k of children) fromFieldsV1(isObject(v1[k]) ? (v1[k] as JsonObject) : {}, [...prefix, k], out);
  return out;
}

function entryFields(e: ManagedFieldsEntry): Set<string> {
  return fromFieldsV1(isObject(e.fieldsV1) ? e.fieldsV1 : {});
}

function setEntry(entries: ManagedFieldsEntry[], manager: string, operation: 'Apply' | 'Update', apiVersion: string, fields: Set<string>, subresource?: string): ManagedFieldsEntry[] {
  const rest = entries.filter((e) => !(e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '')));
  if (fields.size === 0) return rest;
  const entry: ManagedFieldsEntry = { manager, operation, apiVersion, time: nowIso(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(fields) };
  if (subresource) entry.subresource = subresource;
  return [...rest, entry];
}

function withoutFields(entries: ManagedFieldsEntry[], drop: Set<string>, except?: ManagedFieldsEntry): ManagedFieldsEntry[] {
  return entries.flatMap((e) => {
    if (e === except) return [e];
    const kept = new Set([...entryFields(e)].filter((f) => !drop.has(f)));
    return kept.size === 0 ? [] : [{ ...e, fieldsV1: toFieldsV1(kept) }];
  });
}

/** Records an Update by `manager`: fields it changed become its own. */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, manager: string, shape: Shape, subresource?: string): void {
  const before = old ? fieldSet(old, subresource, shape) : new Set<string>();
  const after = fieldSet(next, subresource, shape);
  const changed = new Set([...after].filter((f) => !before.has(f) || !jsonEqual(valueAt(old, f), valueAt(next, f))));
  const removed = new Set([...before].filter((f) => !after.has(f)));
  let entries = withoutFields(next.metadata.managedFields ?? [], new Set([...changed, ...removed]));
  if (changed.size === 0 && entries.length === (next.metadata.managedFields ?? []).length) return;
  const existing = entries.find((e) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? ''));
  const owned = new Set([...(existing ? entryFields(existing) : []), ...changed]);
  entries = setEntry(entries, manager, 'Update', next.apiVersion ?? '', owned, subresource);
  next.metadata.managedFields = entries;
}

/** Merges an applied configuration into the live object (maps recursively, keyed lists by key). */
function mergeApplied(live: unknown, config: unknown, field: string, shape: Shape, schema: JsonObject | undefined, inMetadata: boolean): unknown {
  if (isObject(config)) {
    const out: JsonObject = isObject(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(config)) {
      out[k] = mergeApplied(out[k], v, k, shape, childSchema(schema, k), inMetadata || (field === ROOT && k === 'metadata'));
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const list = listShape(field, config, shape, schema, inMetadata);
    if (list.type === 'set') return [...live, ...config.filter((c) => !live.some((l) => jsonEqual(l, c)))];
    if (list.type === 'map' && listShape(field, live, shape, schema, inMetadata).type === 'map') {
      const out = clone(live) as JsonObject[];
      for (const item of config as JsonObject[]) {
        const i = out.findIndex((o) => list.keys.every((k) => jsonEqual(o[k], item[k])));
        if (i >= 0) out[i] = mergeApplied(out[i], item, '', shape, itemSchema(schema), inMetadata) as JsonObject;
        else out.push(clone(item));
      }
      return out;
    }
  }
  return clone(config);
}

/** Server-side apply of `config` by `manager` onto `live` (undefined when creating). */
export function serverSideApply(live: KubeObject | undefined, config: KubeObject, manager: string, force: boolean, shape: Shape, subresource?: string): KubeObject {
  const entries = live?.metadata.managedFields ?? [];
  const applied = fieldSet(config, subresource, shape);
  const conflicts: Array<{ manager: string; field: string; apiVersion: string }> = [];
  const taken = new Set<string>();
  for (const e of entries) {
    if (e.manager === manager && e.operation === 'Apply') continue;
    if ((e.subresource ?? '') !== (subresource ?? '')) continue;
    for (const f of entryFields(e)) {
      if (applied.has(f) && !jsonEqual(valueAt(live, f), valueAt(config, f))) {
        conflicts.push({ manager: e.manager, field: f, apiVersion: e.apiVersion });
        taken.add(f);
      }
    }
  }
  if (conflicts.length > 0 && !force) {
    const pretty = (f: string): string => '.' + f.split(SEP).map((t) => (t.startsWith('f:') ? t.slice(2) : `[${t.slice(2)}]`)).join('.').replace(/\.\[/g, '[');
    const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: pretty(c.field) }));
    const list = causes.map((c) => `${c.message}: ${c.field}`).join('\n- ');
    throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.length > 1 ? '\n- ' : ''}${list}`, { causes });
  }
  const own = entries.find((e) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (subresource ?? ''));
  let others = withoutFields(entries.filter((e) => e !== own), taken);
  const othersOwn = new Set(others.flatMap((e) => [...entryFields(e)]));
  const base = clone(live ?? { metadata: {} }) as KubeObject;
  for (const f of own ? entryFields(own) : []) if (!applied.has(f) && !othersOwn.has(f)) removeAt(base, f);
  const merged = mergeApplied(base, config, ROOT, shape, shape.schema, false) as KubeObject;
  others = setEntry(others, manager, 'Apply', config.apiVersion ?? '', applied, subresource);
  merged.metadata.managedFields = others;
  return merged;
}
