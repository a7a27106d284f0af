// ObjectMeta checks the real server applies to every kind, custom resources included
// (apimachinery's ValidateObjectMeta): label keys and values, annotation keys and total size,
// finalizer names, owner references. Messages are upstream's.
import type { FieldCause } from '../schema/index.js';
import type { KubeObject } from './types.js';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_PART_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const PREFIX_MSG = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_MSG = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Problems with a qualified name such as `app.kubernetes.io/name`, as IsQualifiedName words them. */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return [QUALIFIED_MSG];
  const [prefix, name] = parts.length === 2 ? parts : ['', parts[0]];
  const out: string[] = [];
  if (parts.length === 2) {
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else if (prefix.length > 253) out.push('prefix part must be no more than 253 characters');
    else if (!SUBDOMAIN.test(prefix)) out.push(PREFIX_MSG);
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !NAME_PART.test(name)) out.push(NAME_PART_MSG);
  return out;
}

const invalid = (field: string, value: unknown, message: string): FieldCause =>
  ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` });

export function objectMetaCauses(obj: KubeObject): FieldCause[] {
  const m = obj.metadata;
  const out: FieldCause[] = [];
  for (const [key, value] of Object.entries(m.labels ?? {})) {
    for (const p of qualifiedNameProblems(key)) out.push(invalid('metadata.labels', key, p));
    if (typeof value !== 'string') out.push(invalid('metadata.labels', value, 'must be a string'));
    else if (value.length > 63) out.push(invalid('metadata.labels', value, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(value)) out.push(invalid('metadata.labels', value, LABEL_VALUE_MSG));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(m.annotations ?? {})) {
    for (const p of qualifiedNameProblems(key.toLowerCase())) out.push(invalid('metadata.annotations', key, p));
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) {
    out.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
  }
  for (const f of m.finalizers ?? []) for (const p of qualifiedNameProblems(f)) out.push(invalid('metadata.finalizers', f, p));
  const refs = m.ownerReferences ?? [];
  refs.forEach((r) => {
    if (!r.apiVersion) out.push(invalid('metadata.ownerReferences.apiVersion', r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) out.push(invalid('metadata.ownerReferences.kind', r.kind ?? '', 'kind must not be empty'));
    if (!r.name) out.push(invalid('metadata.ownerReferences.name', r.name ?? '', 'name must not be empty'));
    if (!r.uid) out.push(invalid('metadata.ownerReferences.uid', r.uid ?? '', 'uid must not be empty'));
  });
  const controllers = refs.filter((r) => r.controller);
  if (controllers.length > 1) {
    out.push(invalid('metadata.ownerReferences', refs.map((r) => r.name), `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((r) => `${r.kind}/${r.name}`).join(' and ')}`));
  }
  return out;
}
