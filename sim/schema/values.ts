// OpenAPI v3 value validation of a (pruned, defaulted) custom resource, with the messages the
// real server produces from kube-openapi errors: `<path> in body should be ...`.
import type { FieldCause, JSONSchemaProps } from './types.js';
import { addl, isObj, items, props } from './cel.js';

type Schema = JSONSchemaProps;

/** Formats a bad value the way field.Error does: strings quoted, numbers bare, objects as JSON. */
export function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return '""';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

/** The kube-openapi name of a JSON value's type. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export const child = (path: string, k: string): string => (path ? `${path}.${k}` : k);
const where = (path: string): string => (path === '' ? 'body' : `${path} in body`);
const invalid = (field: string, v: unknown, detail: string): FieldCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${fmtValue(v)}: ${detail}` });
const typeInvalid = (field: string, v: unknown, want: string): FieldCause => {
  const t = jsonType(v);
  return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: "${t}": ${where(field)} must be of type ${want}: "${t}"` };
};

function typeMatches(want: string, v: unknown): boolean {
  switch (want) {
    case 'object': return isObj(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    default: return true;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FORMATS: Record<string, (v: string) => boolean> = {
  'date-time': (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  duration: (v) => /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) || v === '0',
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
  uuid: (v) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(v),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  hostname: (v) => v.length <= 253 && /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/.test(v),
  ipv4: (v) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v),
  uri: (v) => { try { new URL(v); return true; } catch { return false; } },
};
const INT_RANGES: Record<string, [number, number]> = { int32: [-2147483648, 2147483647], int64: [Number.MIN_SAFE_INTEGER * 1024, Number.MAX_SAFE_INTEGER * 1024] };

/** Validates `v` against `s` (no CEL); one cause per bad field, children only when the type is right. */
export function validateValue(s: Schema, v: unknown, path: string, out: FieldCause[] = []): FieldCause[] {
  if (v === null) {
    if (s.nullable !== true && s['x-kubernetes-preserve-unknown-fields'] !== true && s.type !== undefined) out.push(typeInvalid(path, v, String(s.type)));
    return out;
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) { out.push(typeInvalid(path, v, 'integer,string')); return out; }
  } else if (typeof s.type === 'string' && !typeMatches(s.type, v)) {
    out.push(typeInvalid(path, v, s.type));
    return out;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, v))) {
    out.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${fmtValue(v)}: supported values: ${s.enum.map((e) => fmtValue(e)).join(', ')}` });
  }
  if (typeof v === 'number') numberChecks(s, v, path, out);
  if (typeof v === 'string') stringChecks(s, v, path, out);
  if (Array.isArray(v)) arrayChecks(s, v, path, out);
  if (isObj(v)) objectChecks(s, v, path, out);
  junctors(s, v, path, out);
  return out;
}

function numberChecks(s: Schema, v: number, path: string, out: FieldCause[]): void {
  const min = s.minimum;
  const max = s.maximum;
  if (typeof min === 'number') {
    if (s.exclusiveMinimum === true ? v <= min : v < min) out.push(invalid(path, v, `${where(path)} should be greater than ${s.exclusiveMinimum === true ? '' : 'or equal to '}${min}`));
  }
  if (typeof max === 'number') {
    if (s.exclusiveMaximum === true ? v >= max : v > max) out.push(invalid(path, v, `${where(path)} should be less than ${s.exclusiveMaximum === true ? '' : 'or equal to '}${max}`));
  }
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) {
    out.push(invalid(path, v, `${where(path)} should be a multiple of ${s.multipleOf}`));
  }
  const r = typeof s.format === 'string' ? INT_RANGES[s.format] : undefined;
  if (r && (v < r[0] || v > r[1])) out.push(invalid(path, v, `${where(path)} must be of type ${String(s.format)}: "${v}"`));
}

function stringChecks(s: Schema, v: string, path: string, out: FieldCause[]): void {
  const len = [...v].length;
  if (typeof s.maxLength === 'number' && len > s.maxLength) {
    out.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${s.maxLength} ${s.maxLength === 1 ? 'byte' : 'bytes'}` });
  }
  if (typeof s.minLength === 'number' && len < s.minLength) out.push(invalid(path, v, `${where(path)} should be at least ${s.minLength} chars long`));
  if (typeof s.pattern === 'string') {
    let ok = true;
    try { ok = new RegExp(s.pattern, 'u').test(v); } catch { ok = true; }
    if (!ok) out.push(invalid(path, v, `${where(path)} should match '${s.pattern}'`));
  }
  const f = typeof s.format === 'string' ? FORMATS[s.format] : undefined;
  if (f && !f(v)) out.push(invalid(path, v, `${where(path)} must be of type ${String(s.format)}: ${JSON.stringify(v)}`));
}

function arrayChecks(s: Schema, v: unknown[], path: string, out: FieldCause[]): void {
  if (typeof s.maxItems === 'number' && v.length > s.maxItems) {
    out.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${v.length}: must have at most ${s.maxItems} ${s.maxItems === 1 ? 'item' : 'items'}` });
  }
  if (typeof s.minItems === 'number' && v.length < s.minItems) out.push(invalid(path, v, `${where(path)} should have at least ${s.minItems} items`));
  const it = items(s);
  if (it) v.forEach((e, i) => validateValue(it, e, `${path}[${i}]`, out));
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'set') {
    v.forEach((e, i) => { if (v.slice(0, i).some((p) => deepEqual(p, e))) out.push(dup(`${path}[${i}]`, e)); });
  } else if (lt === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys = s['x-kubernetes-list-map-keys'].map(String);
    const seen = new Set<string>();
    v.forEach((e, i) => {
      if (!isObj(e)) return;
      const key: Record<string, unknown> = {};
      for (const k of keys) key[k] = e[k];
      const id = JSON.stringify(key);
      if (seen.has(id)) out.push(dup(`${path}[${i}]`, key));
      seen.add(id);
    });
  }
}

const dup = (field: string, v: unknown): FieldCause => ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${fmtValue(v)}` });

function objectChecks(s: Schema, v: Record<string, unknown>, path: string, out: FieldCause[]): void {
  const n = Object.keys(v).length;
  if (typeof s.maxProperties === 'number' && n > s.maxProperties) out.push(invalid(path, v, `${where(path)} should have at most ${s.maxProperties} properties`));
  if (typeof s.minProperties === 'number' && n < s.minProperties) out.push(invalid(path, v, `${where(path)} should have at least ${s.minProperties} properties`));
  if (Array.isArray(s.required)) {
    for (const r of s.required) if (typeof r === 'string' && v[r] === undefined) out.push({ reason: 'FieldValueRequired', field: child(path, r), message: 'Required value' });
  }
  if (s['x-kubernetes-embedded-resource'] === true) {
    for (const k of ['apiVersion', 'kind']) {
      if (typeof v[k] !== 'string' || v[k] === '') out.push({ reason: 'FieldValueRequired', field: child(path, k), message: 'Required value: must not be empty' });
    }
  }
  const p = props(s);
  if (p) for (const [k, sub] of Object.entries(p)) if (v[k] !== undefined && isObj(sub)) validateValue(sub, v[k], child(path, k), out);
  const a = addl(s);
  if (a) for (const [k, val] of Object.entries(v)) validateValue(a, val, child(path, k), out);
}

function junctors(s: Schema, v: unknown, path: string, out: FieldCause[]): void {
  const subs = (k: string): Schema[] => (Array.isArray(s[k]) ? (s[k] as unknown[]).filter(isObj) : []);
  for (const sub of subs('allOf')) validateValue(sub, v, path, out);
  const anyOf = subs('anyOf');
  if (anyOf.length > 0 && !anyOf.some((sub) => validateValue(sub, v, path).length === 0)) {
    out.push(invalid(path, v, `${where(path)} must validate at least one schema (anyOf)`));
  }
  const oneOf = subs('oneOf');
  if (oneOf.length > 0 && oneOf.filter((sub) => validateValue(sub, v, path).length === 0).length !== 1) {
    out.push(invalid(path, v, `${where(path)} must validate one and only one schema (oneOf)`));
  }
  if (isObj(s.not) && validateValue(s.not, v, path).length === 0) out.push(invalid(path, v, `${where(path)} must not validate the schema (not)`));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((e, i) => deepEqual(e, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
