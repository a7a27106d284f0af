// JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386), as the API server applies them.
import { badRequest, ApiError } from './errors.js';
import { clone, isObject, jsonEqual, type JsonObject } from './types.js';

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchFailure(message: string): ApiError {
  // The real server answers failed JSON patches with 422 (test op) or 500; 422 is what clients see most.
  return new ApiError(422, 'Invalid', message);
}

function resolveParent(doc: unknown, parts: string[], path: string): { parent: unknown; last: string } {
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined) throw patchFailure(`doc is missing path: "${path}": missing value`);
  }
  return { parent: cur, last: parts[parts.length - 1] };
}

function readAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const part of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined) throw patchFailure(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean, path: string): number {
  if (forInsert && token === '-') return arr.length;
  const idx = Number(token);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(token) || idx > max) throw patchFailure(`Unable to access invalid index: ${token}: "${path}"`);
  return idx;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const parts = parsePointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, last } = resolveParent(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, path), 0, clone(value));
  else if (isObject(parent)) parent[last] = clone(value);
  else throw patchFailure(`doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const parts = parsePointer(path);
  const { parent, last } = resolveParent(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, path), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) delete parent[last];
  else throw patchFailure(`Unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw badRequest('the server rejected our request due to an error in our request');
    switch (raw.op) {
      case 'add': doc = addAt(doc, raw.path, raw.value); break;
      case 'remove': doc = removeAt(doc, raw.path); break;
      case 'replace': readAt(doc, raw.path); doc = addAt(removeAt(doc, raw.path), raw.path, raw.value); break;
      case 'move': {
        const value = clone(readAt(doc, raw.from ?? ''));
        doc = addAt(removeAt(doc, raw.from ?? ''), raw.path, value);
        break;
      }
      case 'copy': doc = addAt(doc, raw.path, clone(readAt(doc, raw.from ?? ''))); break;
      case 'test':
        if (!jsonEqual(readAt(doc, raw.path), raw.value)) throw patchFailure(`testing value ${raw.path} failed: test failed`);
        break;
      default: throw badRequest(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}
