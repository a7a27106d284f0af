// Built-in kinds: the real OpenAPI schemas (kubernetes-models 4.5's precompiled validators of
// Kubernetes 1.33, run through its model classes' validate(), loaded once with this module) plus the handful of semantic checks of pkg/apis/*/validation that the
// OpenAPI document cannot express (container image required, unique names, selector match...).
import type { FieldCause } from './types.js';
import { Namespace as namespace } from 'kubernetes-models/v1/Namespace';
import { Pod as pod } from 'kubernetes-models/v1/Pod';
import { Service as service } from 'kubernetes-models/v1/Service';
import { ConfigMap as configMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret as secret } from 'kubernetes-models/v1/Secret';
import { Event as event } from 'kubernetes-models/v1/Event';
import { Event as eventsEvent } from 'kubernetes-models/events.k8s.io/v1/Event';
import { ServiceAccount as serviceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Node as node } from 'kubernetes-models/v1/Node';
import { Lease as lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { Role as role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding as roleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ClusterRole as clusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding as clusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Deployment as deployment } from 'kubernetes-models/apps/v1/Deployment';
import { isObj } from './cel.js';
import { fmtValue } from './values.js';

type Obj = Record<string, unknown>;
interface AjvError { instancePath: string; keyword: string; params: Record<string, unknown> }
/** A kubernetes-models class: validate() runs its precompiled OpenAPI validator (ajv). */
type Model = new (data: never) => { validate(): void };
type Extra = (o: Obj, out: FieldCause[]) => void;

const RBAC = 'rbac.authorization.k8s.io/v1';
const KINDS: Record<string, [Model, Extra?]> = {
  'v1/Namespace': [namespace, (o, out) => nameCheck(o, out, DNS_LABEL, LABEL_MSG)],
  'v1/Pod': [pod, (o, out) => { nameCheck(o, out); podSpec(o.spec, 'spec', out); }],
  'v1/Service': [service, (o, out) => { nameCheck(o, out, DNS1035, DNS1035_MSG); serviceSpec(o.spec, out); }],
  'v1/ConfigMap': [configMap, (o, out) => { nameCheck(o, out); dataKeys(o, ['data', 'binaryData'], out); }],
  'v1/Secret': [secret, (o, out) => { nameCheck(o, out); dataKeys(o, ['data', 'stringData'], out); }],
  'v1/Event': [event, (o, out) => nameCheck(o, out)],
  'events.k8s.io/v1/Event': [eventsEvent, (o, out) => nameCheck(o, out)],
  'v1/ServiceAccount': [serviceAccount, (o, out) => nameCheck(o, out)],
  'v1/Node': [node, (o, out) => nameCheck(o, out)],
  'coordination.k8s.io/v1/Lease': [lease, (o, out) => nameCheck(o, out)],
  [`${RBAC}/Role`]: [role, (o, out) => nameCheck(o, out, /^[^/%]+$/, 'may not contain \'/\' or \'%\'')],
  [`${RBAC}/RoleBinding`]: [roleBinding, (o, out) => nameCheck(o, out, /^[^/%]+$/, 'may not contain \'/\' or \'%\'')],
  [`${RBAC}/ClusterRole`]: [clusterRole, (o, out) => nameCheck(o, out, /^[^/%]+$/, 'may not contain \'/\' or \'%\'')],
  [`${RBAC}/ClusterRoleBinding`]: [clusterRoleBinding, (o, out) => nameCheck(o, out, /^[^/%]+$/, 'may not contain \'/\' or \'%\'')],
  'apps/v1/Deployment': [deployment, deploymentSpec],
};

/** True when validateBuiltin knows this kind. */
export function isKnownBuiltin(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in KINDS;
}

export function checkBuiltin(apiVersion: string, kind: string, object: Obj): FieldCause[] {
  const entry = KINDS[`${apiVersion}/${kind}`];
  if (!entry) return [];
  const [model, extra] = entry;
  const body = { ...object, apiVersion, kind };
  const out = translate(schemaErrors(model, body), body);
  if (extra) extra(body, out);
  // One cause per field, the first (schema) one winning, as the real server reports one error per path.
  const seen = new Set<string>();
  return out.filter((c) => { const k = `${c.field}\0${c.reason}`; if (seen.has(k)) return false; seen.add(k); return true; });
}

/** The validator's errors, which validate() throws as ajv's ValidationError. */
function schemaErrors(model: Model, body: Obj): AjvError[] {
  try {
    new model(body as never).validate(); // any object: finding what is wrong with it is the point
    return [];
  } catch (e) {
    if (e instanceof Error && (e as { validation?: unknown }).validation === true) return (e as Error & { errors: AjvError[] }).errors;
    throw e;
  }
}

/** '/spec/containers/0/image' -> 'spec.containers[0].image'. */
function fieldOf(pointer: string): string {
  let f = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    f += /^\d+$/.test(seg) ? `[${seg}]` : f ? `.${seg}` : seg;
  }
  return f;
}

function valueAt(o: unknown, pointer: string): unknown {
  let cur = o;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = Array.isArray(cur) ? cur[Number(seg)] : isObj(cur) ? cur[seg] : undefined;
  }
  return cur;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function translate(errors: AjvError[], body: Obj): FieldCause[] {
  // oneOf (int-or-string, quantity) reports one type error per branch and then the oneOf: merge them.
  const typesAt = new Map<string, string[]>();
  for (const e of errors) if (e.keyword === 'type') typesAt.set(e.instancePath, [...(typesAt.get(e.instancePath) ?? []), String(e.params.type)]);
  const out: FieldCause[] = [];
  const done = new Set<string>();
  for (const e of errors) {
    const v = valueAt(body, e.instancePath);
    const field = fieldOf(e.instancePath);
    switch (e.keyword) {
      case 'required': {
        const f = field ? `${field}.${String(e.params.missingProperty)}` : String(e.params.missingProperty);
        out.push({ reason: 'FieldValueRequired', field: f, message: 'Required value' });
        break;
      }
      case 'type': case 'oneOf': {
        if (done.has(e.instancePath)) break;
        done.add(e.instancePath);
        const want = [...new Set(typesAt.get(e.instancePath) ?? ['valid'])].map((t) => (t === 'number' ? 'integer' : t)).join(',');
        const t = jsonType(v);
        out.push({ reason: 'FieldValueTypeInvalid', field, message: `Invalid value: "${t}": ${field} in body must be of type ${want}: "${t}"` });
        break;
      }
      case 'enum': {
        const allowed = Array.isArray(e.params.allowedValues) ? e.params.allowedValues : [];
        out.push({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${fmtValue(v)}: supported values: ${allowed.map((a) => fmtValue(a)).join(', ')}` });
        break;
      }
      case 'format':
        out.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${fmtValue(v)}: ${field} in body must be of type ${String(e.params.format)}: ${fmtValue(v)}` });
        break;
      default:
        out.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${fmtValue(v)}: ${field} in body failed ${e.keyword} validation` });
    }
  }
  return out;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const invalid = (field: string, v: unknown, detail: string): FieldCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${fmtValue(v)}: ${detail}` });
const required = (field: string, detail?: string): FieldCause => ({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });

function nameCheck(o: Obj, out: FieldCause[], re = SUBDOMAIN, msg = SUBDOMAIN_MSG): void {
  const m = isObj(o.metadata) ? o.metadata : {};
  if (m.name === undefined || m.name === '') {
    if (m.generateName === undefined || m.generateName === '') out.push(required('metadata.name', 'name or generateName is required'));
    return;
  }
  if (typeof m.name === 'string' && (!re.test(m.name) || m.name.length > 253)) out.push(invalid('metadata.name', m.name, msg));
}

function containers(list: unknown, path: string, out: FieldCause[], names: Set<string>): void {
  if (!Array.isArray(list)) return;
  list.forEach((c, i) => {
    if (!isObj(c)) return;
    const p = `${path}[${i}]`;
    if (typeof c.name === 'string' && c.name !== '') {
      if (!DNS_LABEL.test(c.name)) out.push(invalid(`${p}.name`, c.name, LABEL_MSG));
      else if (names.has(c.name)) out.push({ reason: 'FieldValueDuplicate', field: `${p}.name`, message: `Duplicate value: ${JSON.stringify(c.name)}` });
      names.add(c.name);
    } else if (c.name === '') out.push(required(`${p}.name`));
    if (c.image === undefined || c.image === '' || (typeof c.image === 'string' && c.image.trim() === '')) out.push(required(`${p}.image`));
    if (Array.isArray(c.ports)) c.ports.forEach((port, j) => {
      if (isObj(port) && typeof port.containerPort === 'number' && (port.containerPort < 1 || port.containerPort > 65535)) {
        out.push(invalid(`${p}.ports[${j}].containerPort`, port.containerPort, 'must be between 1 and 65535, inclusive'));
      }
    });
  });
}

function podSpec(spec: unknown, path: string, out: FieldCause[]): void {
  if (!isObj(spec)) return;
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    if (!out.some((c) => c.field === `${path}.containers`)) out.push(required(`${path}.containers`));
  }
  const names = new Set<string>();
  containers(spec.containers, `${path}.containers`, out, names);
  containers(spec.initContainers, `${path}.initContainers`, out, names);
}

function serviceSpec(spec: unknown, out: FieldCause[]): void {
  if (!isObj(spec)) return;
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') out.push(required('spec.ports'));
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    if (ports.length > 1 && (p.name === undefined || p.name === '')) out.push(required(`spec.ports[${i}].name`));
    if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535)) out.push(invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
  });
}

function dataKeys(o: Obj, fields: string[], out: FieldCause[]): void {
  for (const f of fields) {
    if (!isObj(o[f])) continue;
    for (const k of Object.keys(o[f] as Obj)) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) out.push(invalid(`${f}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    }
  }
}

function deploymentSpec(o: Obj, out: FieldCause[]): void {
  nameCheck(o, out);
  const spec = isObj(o.spec) ? o.spec : undefined;
  if (!spec) { out.push(required('spec')); return; }
  if (typeof spec.replicas === 'number' && spec.replicas < 0) out.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  const tmpl = isObj(spec.template) ? spec.template : {};
  const labels = isObj(tmpl.metadata) && isObj(tmpl.metadata.labels) ? tmpl.metadata.labels : {};
  const sel = isObj(spec.selector) ? spec.selector : undefined;
  if (sel) {
    const ml = isObj(sel.matchLabels) ? sel.matchLabels : {};
    const me = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
    if (Object.keys(ml).length === 0 && me.length === 0) out.push(invalid('spec.selector', sel, 'empty selector is invalid for deployment'));
    else if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  if (!isObj(tmpl.spec)) out.push(required('spec.template.spec.containers'));
  else podSpec(tmpl.spec, 'spec.template.spec', out);
}
