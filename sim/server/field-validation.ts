// `fieldValidation=Strict|Warn`: report the fields that admission pruned from a custom resource.
import { badRequest } from './errors.js';
import { isObject } from './types.js';

/** Dotted paths present in `input` but gone from `admitted` (metadata is not pruned, so not compared). */
export function prunedFields(input: unknown, admitted: unknown, prefix = ''): string[] {
  if (!isObject(input)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(input)) {
    if (!prefix && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (!isObject(admitted) || !(k in admitted)) out.push(path);
    else if (isObject(v)) out.push(...prunedFields(v, admitted[k], path));
    else if (Array.isArray(v) && Array.isArray(admitted[k])) {
      v.forEach((item, i) => out.push(...prunedFields(item, (admitted[k] as unknown[])[i], `${path}[${i}]`)));
    }
  }
  return out;
}

/** Strict: 400 as the real server words it; Warn: warnings for the response; Ignore: nothing. */
export function checkFieldValidation(mode: string | undefined, kind: string, version: string, unknown: string[]): string[] {
  if (unknown.length === 0 || mode === 'Ignore') return [];
  const messages = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') {
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${messages.join(', ')}`);
  }
  return messages;
}
