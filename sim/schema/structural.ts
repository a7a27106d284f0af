// CustomResourceDefinition validation: the spec checks and the structural-schema rules the real
// apiextensions-apiserver applies, with its field paths and messages, plus CEL compilation.
import type { FieldCause, JSONSchemaProps } from './types.js';
import { CelCompiler, addl, isObj, items, props } from './cel.js';
import { canon, compilerFor, prune } from './admit.js';
import { deepEqual, fmtValue, validateValue } from './values.js';

type Schema = JSONSchemaProps;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const cause = (reason: string, field: string, message: string): FieldCause => ({ reason, field, message });
const required = (field: string, detail?: string): FieldCause => cause('FieldValueRequired', field, detail ? `Required value: ${detail}` : 'Required value');
const invalid = (field: string, v: unknown, detail: string): FieldCause => cause('FieldValueInvalid', field, `Invalid value: ${fmtValue(v)}: ${detail}`);
const forbidden = (field: string, detail: string): FieldCause => cause('FieldValueForbidden', field, `Forbidden: ${detail}`);
const unsupported = (field: string, v: unknown, allowed: string[]): FieldCause =>
  cause('FieldValueNotSupported', field, `Unsupported value: ${fmtValue(v)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);

const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const RULE_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

/** Checks the CRD; returns one cause per problem, empty when the CRD is acceptable. */
export function checkCrd(crd: Record<string, unknown>): FieldCause[] {
  const out: FieldCause[] = [];
  const meta = isObj(crd.metadata) ? crd.metadata : {};
  const spec = isObj(crd.spec) ? crd.spec : {};
  const group = spec.group;
  if (typeof group !== 'string' || group === '') out.push(required('spec.group'));
  else if (!group.includes('.')) out.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  const names = isObj(spec.names) ? spec.names : {};
  for (const k of ['plural', 'singular']) {
    const v = names[k];
    if (v === undefined || v === '') { if (k === 'plural') out.push(required(`spec.names.${k}`)); continue; }
    if (typeof v !== 'string' || !DNS_LABEL.test(v)) out.push(invalid(`spec.names.${k}`, v, LABEL_MSG));
  }
  if (typeof names.kind !== 'string' || names.kind === '') out.push(required('spec.names.kind'));
  if (typeof names.listKind === 'string' && names.listKind === names.kind) out.push(invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
  if (typeof names.plural === 'string' && typeof group === 'string' && meta.name !== `${names.plural}.${group}`) {
    out.push(invalid('metadata.name', meta.name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (spec.scope === undefined) out.push(required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') out.push(unsupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  if (spec.preserveUnknownFields === true) out.push(invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) { out.push(required('spec.versions')); return out; }
  const seen = new Set<string>();
  let storage = 0;
  let served = 0;
  versions.forEach((raw, i) => {
    const v = isObj(raw) ? raw : {};
    const p = `spec.versions[${i}]`;
    if (typeof v.name !== 'string' || v.name === '') out.push(required(`${p}.name`));
    else if (seen.has(v.name)) out.push(cause('FieldValueDuplicate', `${p}.name`, `Duplicate value: ${JSON.stringify(v.name)}`));
    else if (!DNS_LABEL.test(v.name)) out.push(invalid(`${p}.name`, v.name, LABEL_MSG));
    if (typeof v.name === 'string') seen.add(v.name);
    if (v.storage === true) storage++;
    if (v.served === true) served++;
    const root = isObj(v.schema) ? v.schema.openAPIV3Schema : undefined;
    const scale = isObj(v.subresources) && isObj(v.subresources.scale) ? v.subresources.scale : undefined;
    if (scale) {
      for (const [k, under] of [['specReplicasPath', ['.spec']], ['statusReplicasPath', ['.status']], ['labelSelectorPath', ['.spec', '.status']]] as const) {
        const jp = scale[k];
        if (jp === undefined && k === 'labelSelectorPath') continue;
        if (typeof jp !== 'string' || !under.some((u) => jp.startsWith(`${u}.`))) {
          out.push(invalid(`${p}.subresources.scale.${k}`, jp, `should be a json path under ${under.length > 1 ? 'either .spec or .status' : under[0]}`));
        }
      }
    }
    if (!isObj(root)) { out.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required')); return; }
    out.push(...checkSchema(root, `${p}.schema.openAPIV3Schema`));
  });
  if (storage !== 1) out.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  if (served === 0) out.push(invalid('spec.versions', versions, 'must have at least one version marked as served'));
  return out;
}

/** Structural rules plus CEL compilation for one version's openAPIV3Schema. */
export function checkSchema(root: Schema, base: string): FieldCause[] {
  const out: FieldCause[] = [];
  if (root.type === undefined) out.push(required(`${base}.type`, 'must not be empty at the root'));
  else if (root.type !== 'object') out.push(invalid(`${base}.type`, root.type, 'must be object at the root'));
  const rp = props(root);
  if (rp && isObj(rp.metadata)) checkRootMetadata(rp.metadata, `${base}.properties[metadata]`, out);
  walk(root, base, 'root', out);
  // Compiled rules are cached by content, so admission of this CRD's objects reuses them.
  const shared = canon(root);
  compileAll(compilerFor(shared), shared, base, out);
  return out;
}

function checkRootMetadata(m: Schema, path: string, out: FieldCause[]): void {
  const extra = Object.keys(m).filter((k) => k !== 'type' && k !== 'properties');
  const mp = props(m) ?? {};
  const extraProps = Object.keys(mp).filter((k) => k !== 'name' && k !== 'generateName');
  if (extra.length > 0 || extraProps.length > 0) out.push(forbidden(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  if (m.type !== undefined && m.type !== 'object') out.push(invalid(`${path}.type`, m.type, 'must be object'));
}

type Where = 'root' | 'property' | 'items' | 'additionalProperties' | 'junctor';

function walk(s: Schema, path: string, where: Where, out: FieldCause[], intOrStringParent = false): void {
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'];
  if (preserve !== undefined && preserve !== true) out.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, preserve, 'must be true or undefined'));
  if (where !== 'junctor') {
    if (s.type === undefined || s.type === '') {
      if (!intOrString && preserve !== true && where !== 'root') {
        const what = where === 'items' ? 'for specified array items' : 'for specified object fields';
        out.push(required(`${path}.type`, `must not be empty ${what}`));
      }
    } else if (typeof s.type !== 'string' || !TYPES.includes(s.type)) {
      out.push(unsupported(`${path}.type`, s.type, TYPES));
    }
  } else {
    // Inside allOf/anyOf/oneOf/not only value validations are allowed, except the
    // `anyOf: [{type: integer}, {type: string}]` that controller-gen writes for int-or-string.
    if (s.type !== undefined && !(intOrStringParent && (s.type === 'integer' || s.type === 'string'))) out.push(forbidden(`${path}.type`, 'must be empty to be structural'));
    for (const k of ['default', 'nullable', 'additionalProperties', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string']) {
      if (s[k] !== undefined && !(k === 'x-kubernetes-int-or-string' && s[k] === false)) out.push(forbidden(`${path}.${k}`, 'must be empty to be structural'));
    }
  }
  if (intOrString && s.type !== undefined && where !== 'junctor') out.push(forbidden(`${path}.type`, 'must be empty if x-kubernetes-int-or-string is true'));
  if (s.$ref !== undefined) out.push(forbidden(`${path}.$ref`, '$ref is not supported'));
  if (s.uniqueItems === true) out.push(forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalItems !== undefined) out.push(forbidden(`${path}.additionalItems`, 'additionalItems cannot be set to false'));
  for (const k of ['definitions', 'dependencies', 'patternProperties', 'id', '$schema']) {
    if (s[k] !== undefined) out.push(forbidden(`${path}.${k}`, `${k} is not supported`));
  }
  if (s.properties !== undefined && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    out.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (s.type === 'array' && where !== 'junctor' && !isObj(s.items)) out.push(required(`${path}.items`, 'must be specified'));
  if (Array.isArray(s.items)) out.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (s['x-kubernetes-embedded-resource'] === true) {
    if (s.type !== 'object') out.push(invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'));
    if (!props(s) && preserve !== true) out.push(required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  checkListType(s, path, out);
  const reqd = Array.isArray(s.required) ? s.required : [];
  const p = props(s);
  if (p && where !== 'junctor') {
    reqd.forEach((r, i) => { if (typeof r !== 'string' || !(r in p)) out.push(invalid(`${path}.required[${i}]`, r, 'must be declared in properties')); });
  }
  if (s.default !== undefined && where !== 'junctor') checkDefault(s, path, out);
  checkRules(s, path, out);
  for (const [k, v] of Object.entries(p ?? {})) if (isObj(v)) walk(v, `${path}.properties[${k}]`, where === 'junctor' ? 'junctor' : 'property', out);
  const it = items(s);
  if (it) walk(it, `${path}.items`, where === 'junctor' ? 'junctor' : 'items', out);
  const a = addl(s);
  if (a) walk(a, `${path}.additionalProperties`, where === 'junctor' ? 'junctor' : 'additionalProperties', out);
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) {
    const arr = s[j];
    if (Array.isArray(arr)) arr.forEach((sub, i) => { if (isObj(sub)) walk(sub, `${path}.${j}[${i}]`, 'junctor', out, intOrString); });
  }
  if (isObj(s.not)) walk(s.not, `${path}.not`, 'junctor', out);
}

function checkListType(s: Schema, path: string, out: FieldCause[]): void {
  const lt = s['x-kubernetes-list-type'];
  if (lt === undefined) return;
  if (lt !== 'atomic' && lt !== 'set' && lt !== 'map') { out.push(unsupported(`${path}.x-kubernetes-list-type`, lt, ['atomic', 'map', 'set'])); return; }
  if (s.type !== 'array') out.push(invalid(`${path}.type`, s.type, 'must be array if x-kubernetes-list-type is specified'));
  const it = items(s);
  const keys = s['x-kubernetes-list-map-keys'];
  if (lt === 'map') {
    if (!Array.isArray(keys) || keys.length === 0) { out.push(required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map')); return; }
    if (!it || it.type !== 'object') { out.push(invalid(`${path}.items.type`, it?.type, 'must be object if parent array\'s x-kubernetes-list-type is map')); return; }
    const ip = props(it) ?? {};
    const ireq = Array.isArray(it.required) ? it.required : [];
    keys.forEach((k, i) => {
      const ks = ip[String(k)];
      if (!ks) out.push(invalid(`${path}.x-kubernetes-list-map-keys[${i}]`, k, 'entries must all be names of item properties'));
      else if (!ireq.includes(k) && ks.default === undefined) out.push(required(`${path}.items.properties[${String(k)}]`, 'all map keys must be required or have a default value'));
    });
  } else if (keys !== undefined) {
    out.push(forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty if x-kubernetes-list-type is not map'));
  }
  if (lt === 'set' && it && it.type === 'object') out.push(invalid(`${path}.items.type`, it.type, 'must be a scalar type if parent array\'s x-kubernetes-list-type is set'));
}

function checkDefault(s: Schema, path: string, out: FieldCause[]): void {
  // A default must itself be valid against its schema (OpenAPI rules; CEL is not run on defaults
  // here) and must survive pruning unchanged.
  if (isObj(s.default) && !deepEqual(prune(s, s.default), s.default)) out.push(invalid(`${path}.default`, s.default, 'must not have unknown fields'));
  for (const c of validateValue(s, s.default, `${path}.default`)) out.push({ ...c, field: c.field || `${path}.default` });
}

function checkRules(s: Schema, path: string, out: FieldCause[]): void {
  const rules = s['x-kubernetes-validations'];
  if (rules === undefined) return;
  if (!Array.isArray(rules)) { out.push(invalid(`${path}.x-kubernetes-validations`, rules, 'must be a list')); return; }
  rules.forEach((r, i) => {
    if (!isObj(r)) return;
    if (r.reason !== undefined && !RULE_REASONS.includes(String(r.reason))) out.push(unsupported(`${path}.x-kubernetes-validations[${i}].reason`, r.reason, RULE_REASONS));
    if (r.fieldPath !== undefined && (typeof r.fieldPath !== 'string' || !/^(\.[A-Za-z_][\w-]*|\[('[^']*'|\d+)\])+$/.test(r.fieldPath))) {
      out.push(invalid(`${path}.x-kubernetes-validations[${i}].fieldPath`, r.fieldPath, 'fieldPath must be a valid path'));
    }
    if (typeof r.message === 'string' && (r.message.trim() === '' || r.message.includes('\n'))) {
      out.push(invalid(`${path}.x-kubernetes-validations[${i}].message`, r.message, 'message must be non-empty and must not contain line breaks'));
    }
  });
}

/** Compiles every node's rules; an uncompilable rule is a cause on its `.rule` field. */
function compileAll(cc: CelCompiler, s: Schema, path: string, out: FieldCause[], correlatable = true): void {
  if (Array.isArray(s['x-kubernetes-validations'])) {
    const { rules, errors } = cc.compileNode(s);
    for (const e of errors) {
      out.push({ reason: e.message === 'Required value' ? 'FieldValueRequired' : 'FieldValueInvalid', field: `${path}.x-kubernetes-validations[${e.index}].${e.field}`, message: e.message });
    }
    // Under a set or atomic list there is no old element to compare with.
    if (!correlatable) {
      (s['x-kubernetes-validations'] as unknown[]).forEach((r, i) => {
        if (rules.some((c) => c.transition && c.spec === r)) {
          out.push(invalid(`${path}.x-kubernetes-validations[${i}].rule`, (r as { rule: string }).rule, 'oldSelf cannot be used on the uncorrelatable portion of the schema within a list that is not x-kubernetes-list-type=map'));
        }
      });
    }
  }
  for (const [k, v] of Object.entries(props(s) ?? {})) if (isObj(v)) compileAll(cc, v, `${path}.properties[${k}]`, out, correlatable);
  const it = items(s);
  if (it) compileAll(cc, it, `${path}.items`, out, correlatable && s['x-kubernetes-list-type'] === 'map');
  const a = addl(s);
  if (a) compileAll(cc, a, `${path}.additionalProperties`, out, correlatable);
}
