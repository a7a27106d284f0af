// Strategic merge patch for built-in kinds: lists merge by their patchMergeKey, as the
// real types declare, and `$patch` / `$deleteFromPrimitiveList` directives are honoured.
import { badRequest } from './errors.js';
import { clone, isObject, jsonEqual, type JsonObject } from './types.js';

type ListStrategy = { kind: 'merge'; key: string } | { kind: 'set' } | { kind: 'replace' };

/** patchMergeKey of a list field, by its name (and the kind for the one ambiguous name). */
function listStrategy(field: string, kind: string, depth: number): ListStrategy {
  switch (field) {
    case 'containers': case 'initContainers': case 'ephemeralContainers': case 'env': case 'volumes':
    case 'imagePullSecrets': case 'secrets': case 'resourceClaims': case 'readinessGates':
      return field === 'readinessGates' ? { kind: 'merge', key: 'conditionType' } : { kind: 'merge', key: 'name' };
    case 'ports':
      return kind === 'Service' && depth === 2 ? { kind: 'merge', key: 'port' } : { kind: 'merge', key: 'containerPort' };
    case 'volumeMounts': return { kind: 'merge', key: 'mountPath' };
    case 'volumeDevices': return { kind: 'merge', key: 'devicePath' };
    case 'conditions': return { kind: 'merge', key: 'type' };
    case 'ownerReferences': return { kind: 'merge', key: 'uid' };
    case 'hostAliases': return { kind: 'merge', key: 'ip' };
    case 'topologySpreadConstraints': return { kind: 'merge', key: 'topologyKey' };
    case 'finalizers': return { kind: 'set' };
    default: return { kind: 'replace' };
  }
}

const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';

export function strategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeMap(isObject(original) ? original : {}, patch, kind, 0);
}

function mergeMap(original: JsonObject, patch: JsonObject, kind: string, depth: number): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const copy = clone(patch);
    delete copy.$patch;
    return copy;
  }
  if (directive !== undefined) throw badRequest(`Unknown patch type: ${String(directive)}`);
  const out = clone(original);
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key.startsWith(SET_ORDER)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) out[field] = current.filter((v) => !value.some((d) => jsonEqual(d, v)));
      continue;
    }
    if (value === null) {
      delete out[key];
    } else if (isObject(value)) {
      const merged = mergeMap(isObject(out[key]) ? (out[key] as JsonObject) : {}, value, kind, depth + 1);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(Array.isArray(out[key]) ? (out[key] as unknown[]) : [], value, listStrategy(key, kind, depth + 1), kind, depth + 1);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function mergeList(original: unknown[], patch: unknown[], strategy: ListStrategy, kind: string, depth: number): unknown[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map((item) => clone(item));
  }
  if (strategy.kind === 'replace') return clone(patch);
  if (strategy.kind === 'set') {
    const out = clone(original);
    for (const item of patch) if (!out.some((o) => jsonEqual(o, item))) out.push(clone(item));
    return out;
  }
  const key = strategy.key;
  const out = clone(original);
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) {
      out.push(clone(item));
      continue;
    }
    const index = out.findIndex((o) => isObject(o) && jsonEqual(o[key], item[key]));
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index < 0) {
      const fresh = mergeMap({}, item, kind, depth);
      if (fresh) out.push(fresh);
    } else {
      const merged = mergeMap(out[index] as JsonObject, item, kind, depth);
      if (merged === undefined) out.splice(index, 1);
      else out[index] = merged;
    }
  }
  return out;
}
