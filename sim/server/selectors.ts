// Label and field selectors, parsed once per request into predicates.
import { badRequest } from './errors.js';
import { getPath, type KubeObject } from './types.js';

export type Predicate = (obj: KubeObject) => boolean;

interface LabelRequirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function parseRequirement(part: string, selector: string): LabelRequirement {
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (setMatch) {
    const values = setMatch[3].split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    return { key: checkKey(setMatch[1], selector), op: setMatch[2] as 'in' | 'notin', values };
  }
  const eqMatch = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
  if (eqMatch) {
    return { key: checkKey(eqMatch[1], selector), op: eqMatch[2] === '!=' ? '!=' : '=', values: [eqMatch[3]] };
  }
  if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: '!exists', values: [] };
  if (/^\S+$/.test(part)) return { key: checkKey(part, selector), op: 'exists', values: [] };
  throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
}

function matchesRequirement(labels: Record<string, string>, req: LabelRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'exists': return has;
    case '!exists': return !has;
    case '=': return has && value === req.values[0];
    case '!=': return !has || value !== req.values[0];
    case 'in': return has && req.values.includes(value);
    case 'notin': return !has || !req.values.includes(value);
  }
}

export function parseLabelSelector(selector: string | undefined | null): Predicate {
  if (!selector || !selector.trim()) return () => true;
  const reqs = splitTopLevel(selector).map((p) => parseRequirement(p, selector));
  return (obj) => reqs.every((r) => matchesRequirement(obj.metadata.labels ?? {}, r));
}

/** A metav1.LabelSelector (matchLabels/matchExpressions) as a predicate on labels. */
export function labelSelectorObjectMatches(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (!op || !matchesRequirement(labels, { key: e.key, op, values: e.values ?? [] })) return false;
  }
  return true;
}

/** Formats a metav1.LabelSelector as the string form (for scale status.selector). */
export function labelSelectorToString(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }): string {
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

/** Field selectors the real server supports beyond metadata.name/namespace, per kind. */
const EXTRA_FIELDS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
};

export function parseFieldSelector(selector: string | undefined | null, kind: string, builtin: boolean): Predicate {
  if (!selector || !selector.trim()) return () => true;
  const allowed = ['metadata.name', 'metadata.namespace', ...(builtin ? EXTRA_FIELDS[kind] ?? [] : [])];
  const reqs = selector.split(',').map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    if (!allowed.includes(m[1])) {
      throw badRequest(builtin ? `field label not supported: ${m[1]}` : `"${m[1]}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    return { path: m[1], negate: m[2] === '!=', value: m[3] };
  });
  return (obj) => reqs.every((r) => {
    const raw = getPath(obj, r.path);
    const actual = raw === undefined || raw === null ? (r.path === 'spec.hostNetwork' || r.path === 'spec.unschedulable' ? 'false' : '') : String(raw);
    return r.negate ? actual !== r.value : actual === r.value;
  });
}
