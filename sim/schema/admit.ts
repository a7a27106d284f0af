// Custom resource admission in the real server's order: prune unknown fields, apply defaults,
// validate against the OpenAPI schema, then evaluate CEL rules (transition rules on update only).
import type { Admitted, FieldCause, JSONSchemaProps } from './types.js';
import { CelCompiler, addl, firstLine, isObj, items, props, toCel, withRootFields, type CompiledRule } from './cel.js';
import { child, deepEqual, validateValue } from './values.js';

type Schema = JSONSchemaProps;
type Obj = Record<string, unknown>;

const compilers = new WeakMap<Schema, CelCompiler>();
/** One CEL compiler (and its rule cache) per root schema object, shared with validateCrd. */
export function compilerFor(root: Schema): CelCompiler {
  let c = compilers.get(root);
  if (!c) { c = new CelCompiler(root); compilers.set(root, c); }
  return c;
}

const ROOT_KEEP = new Set(['apiVersion', 'kind', 'metadata']);

/** Drops fields the schema does not declare; returns the pruned value (a fresh copy). */
export function prune(s: Schema | undefined, v: unknown, isRoot = false): unknown {
  if (Array.isArray(v)) { const it = s && items(s); return v.map((e) => prune(it, e)); }
  if (!isObj(v)) return v;
  if (!s || s['x-kubernetes-int-or-string'] === true) return structuredClone(v);
  const p = props(s);
  const a = addl(s);
  const keepAll = s['x-kubernetes-preserve-unknown-fields'] === true || s.additionalProperties === true || a !== undefined;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const out: Obj = {};
  for (const [k, val] of Object.entries(v)) {
    // Nulls of non-nullable fields without a default are dropped before defaulting, as upstream.
    const sub = p?.[k] ?? a;
    if (val === null && sub && sub.nullable !== true && sub.default === undefined) continue;
    if ((isRoot || embedded) && ROOT_KEEP.has(k) && !p?.[k]) { out[k] = structuredClone(val); continue; }
    if (p && k in p) { out[k] = isRoot && k === 'metadata' ? structuredClone(val) : prune(p[k], val); continue; }
    if (a) { out[k] = prune(a, val); continue; }
    if (keepAll) out[k] = structuredClone(val);
  }
  return out;
}

/** Applies `default`s for absent (or null non-nullable) properties, recursively, in place. */
export function applyDefaults(s: Schema | undefined, v: unknown): void {
  if (!s) return;
  if (Array.isArray(v)) { const it = items(s); if (it) v.forEach((e) => applyDefaults(it, e)); return; }
  if (!isObj(v)) return;
  const p = props(s);
  if (p) {
    for (const [k, sub] of Object.entries(p)) {
      if (!isObj(sub)) continue;
      if (sub.default !== undefined && (v[k] === undefined || (v[k] === null && sub.nullable !== true))) v[k] = prune(sub, structuredClone(sub.default));
      if (v[k] !== undefined) applyDefaults(sub, v[k]);
    }
  }
  const a = addl(s);
  if (a) for (const val of Object.values(v)) applyDefaults(a, val);
}

const RULE_TYPE = (s: Schema): string => (s['x-kubernetes-int-or-string'] === true ? 'string' : typeof s.type === 'string' ? s.type : 'object');

/** Formats a failed rule as the real server does for its reason. */
function ruleCause(r: CompiledRule, s: Schema, field: string, msg: string): FieldCause {
  const fp = r.spec.fieldPath;
  if (typeof fp === 'string' && fp !== '') field += fp.replace(/\['([^']*)'\]/g, '[$1]').replace(/^\./, field ? '.' : '');
  const bad = JSON.stringify(RULE_TYPE(s));
  switch (r.spec.reason) {
    case 'FieldValueForbidden': return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${msg}` };
    case 'FieldValueRequired': return { reason: 'FieldValueRequired', field, message: `Required value: ${msg}` };
    case 'FieldValueDuplicate': return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${bad}: ${msg}` };
    default: return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${bad}: ${msg}` };
  }
}

function failureMessage(r: CompiledRule, ctx: Obj): string {
  if (r.messageRun) {
    try {
      const m = r.messageRun(ctx);
      if (typeof m === 'string' && m.trim() !== '' && !m.includes('\n')) return m;
    } catch { /* the real server falls back to message when messageExpression fails */ }
  }
  if (typeof r.spec.message === 'string' && r.spec.message !== '') return r.spec.message;
  return `failed rule: ${r.spec.rule}`;
}

/** Evaluates x-kubernetes-validations at every node that has a value. */
function evalRules(cc: CelCompiler, s: Schema, v: unknown, old: unknown, path: string, isRoot: boolean, out: FieldCause[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(s['x-kubernetes-validations'])) {
    const { rules, errors } = cc.compileNode(s);
    for (const e of errors) out.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: "object": ${e.message}` });
    const celSchema = isRoot ? withRootFields(s) : s;
    const ctx: Obj = { self: toCel(v, celSchema) };
    if (old !== undefined && old !== null) ctx.oldSelf = toCel(old, celSchema);
    for (const r of rules) {
      if (r.transition && ctx.oldSelf === undefined) continue;
      let ok: unknown;
      try { ok = r.run(ctx); } catch (e) {
        out.push(ruleCause({ ...r, spec: { ...r.spec, reason: 'FieldValueInvalid', fieldPath: undefined } }, s, path, `${firstLine(e)} evaluating rule: ${r.spec.rule}`));
        continue;
      }
      if (ok !== true) out.push(ruleCause(r, s, path, ok === false ? failureMessage(r, ctx) : `rule did not evaluate to a bool: ${r.spec.rule}`));
    }
  }
  const p = props(s);
  if (p && isObj(v)) {
    for (const [k, sub] of Object.entries(p)) {
      if (isObj(sub)) evalRules(cc, sub, v[k], isObj(old) ? old[k] : undefined, child(path, k), false, out);
    }
  }
  const a = addl(s);
  if (a && isObj(v)) for (const [k, val] of Object.entries(v)) evalRules(cc, a, val, isObj(old) ? old[k] : undefined, child(path, k), false, out);
  const it = items(s);
  if (it && Array.isArray(v)) {
    const oldList = Array.isArray(old) ? old : [];
    v.forEach((e, i) => evalRules(cc, it, e, correlate(s, e, oldList), `${path}[${i}]`, false, out));
  }
}

/** Old element for a list element: only list-type map items correlate (by their keys), as upstream. */
function correlate(s: Schema, e: unknown, old: unknown[]): unknown {
  const lt = s['x-kubernetes-list-type'];
  if (lt !== 'map' || !isObj(e) || !Array.isArray(s['x-kubernetes-list-map-keys'])) return undefined;
  const keys = s['x-kubernetes-list-map-keys'].map(String);
  return old.find((o) => isObj(o) && keys.every((k) => deepEqual(o[k], e[k])));
}

/** Validates embedded resources' metadata.name like the real server (a DNS subdomain). */
function embeddedChecks(s: Schema, v: unknown, path: string, out: FieldCause[]): void {
  if (Array.isArray(v)) { const it = items(s); if (it) v.forEach((e, i) => embeddedChecks(it, e, `${path}[${i}]`, out)); return; }
  if (!isObj(v)) return;
  if (s['x-kubernetes-embedded-resource'] === true && isObj(v.metadata) && v.metadata.name !== undefined) {
    const n = v.metadata.name;
    if (typeof n !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n) || n.length > 253) {
      out.push({ reason: 'FieldValueInvalid', field: child(path, 'metadata.name'), message: `Invalid value: ${JSON.stringify(n)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
    }
  }
  const p = props(s);
  if (p) for (const [k, sub] of Object.entries(p)) if (isObj(sub)) embeddedChecks(sub, v[k], child(path, k), out);
  const a = addl(s);
  if (a) for (const [k, val] of Object.entries(v)) embeddedChecks(a, val, child(path, k), out);
}

const ruleful = new WeakMap<Schema, boolean>();
/** Whether any node has x-kubernetes-validations (the real server has no CEL validator otherwise). */
function hasRules(s: Schema): boolean {
  let r = ruleful.get(s);
  if (r === undefined) {
    r = Array.isArray(s['x-kubernetes-validations']) || Object.values(props(s) ?? {}).some((p) => isObj(p) && hasRules(p))
      || [items(s), addl(s)].some((c) => c !== undefined && hasRules(c));
    ruleful.set(s, r);
  }
  return r;
}

const canonical = new WeakMap<Schema, Schema>();
const byContent = new Map<string, Schema>();
/** The first-seen schema object with the same content, so that a server handing in a fresh copy
 *  of the same CRD schema on each request still hits the compiled-rule caches (bounded). */
export function canon(schema: Schema): Schema {
  let c = canonical.get(schema);
  if (c) return c;
  const key = JSON.stringify(schema);
  c = byContent.get(key);
  if (!c) {
    if (byContent.size >= 256) byContent.delete(byContent.keys().next().value as string);
    byContent.set(key, schema);
    c = schema;
  }
  canonical.set(schema, c);
  return c;
}

export function admit(given: Schema, object: Obj, old?: Obj): Admitted {
  const schema = canon(given);
  const pruned = prune(schema, object, true) as Obj;
  applyDefaults(schema, pruned);
  const causes: FieldCause[] = [];
  // Root metadata/apiVersion/kind are the server's business, not the schema's.
  const rootSchema: Schema = { ...schema, properties: { ...(props(schema) ?? {}) } };
  for (const k of ROOT_KEEP) delete (rootSchema.properties as Obj)[k];
  if (Array.isArray(schema.required)) rootSchema.required = schema.required.filter((r) => !ROOT_KEEP.has(String(r)));
  validateValue(rootSchema, pruned, '', causes);
  // The schema may restrict metadata.name/generateName (the only metadata it may mention).
  const ms = props(schema)?.metadata;
  const mp = isObj(ms) ? props(ms) : undefined;
  const meta = isObj(pruned.metadata) ? pruned.metadata : {};
  for (const k of ['name', 'generateName']) if (mp?.[k] && meta[k] !== undefined) validateValue(mp[k], meta[k], `metadata.${k}`, causes);
  embeddedChecks(schema, pruned, '', causes);
  // As on the real server (hasBlockingErr), type and enum errors keep CEL rules from running.
  if (!hasRules(schema)) return { object: pruned, causes };
  if (causes.some((c) => c.reason === 'FieldValueTypeInvalid' || c.reason === 'FieldValueNotSupported')) {
    causes.push({ reason: 'FieldValueInvalid', field: '', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
  } else {
    evalRules(compilerFor(schema), schema, pruned, old, '', true, causes);
  }
  return { object: pruned, causes };
}
