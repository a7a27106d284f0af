// CEL support for x-kubernetes-validations. Two environments per schema: a TYPED one built from
// the schema (every object node becomes a CEL type with its declared fields) so that a rule that
// names an undeclared field, calls an unknown function or mixes types fails to COMPILE, as on the
// real server; and a DYN one used to evaluate, because the engine has no equality on custom types
// (`self == oldSelf` is the usual immutability rule) while plain maps compare deeply.
import { Environment } from '@marcbachmann/cel-js';
import type { JSONSchemaProps } from './types.js';
import { installKubeLibrary } from './kubelib.js';

type Schema = JSONSchemaProps;

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** Rules of one node, compiled. `transition` rules mention oldSelf and run only on update. */
export interface CompiledRule {
  spec: CelRule;
  transition: boolean;
  run: (ctx: Record<string, unknown>) => unknown;
  messageRun?: (ctx: Record<string, unknown>) => unknown;
}

// CEL reserved words the real server escapes as __word__ in property names.
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** The property name as CEL sees it (apiextensions escaping), or undefined when not accessible. */
export function celName(prop: string): string | undefined {
  if (RESERVED.has(prop)) return `__${prop}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(prop)) return undefined;
  return prop.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const props = (s: Schema): Record<string, Schema> | undefined => (isObj(s.properties) ? (s.properties as Record<string, Schema>) : undefined);
export const addl = (s: Schema): Schema | undefined => (isObj(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined);
export const items = (s: Schema): Schema | undefined => (isObj(s.items) ? (s.items as Schema) : undefined);

/** The implicit root fields every custom resource has (metadata limited to name/generateName). */
export function withRootFields(schema: Schema): Schema {
  const p = { ...(props(schema) ?? {}) };
  p.apiVersion ??= { type: 'string' };
  p.kind ??= { type: 'string' };
  p.metadata = { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } };
  return { ...schema, type: 'object', properties: p };
}

// Optional types: the real server supports `self.?field.orValue(x)` since 1.29.
const ENV_OPTS = { homogeneousAggregateLiterals: false, enableOptionalTypes: true };

/** Builds the typed environment: registers one CEL type per object node, returns its type name. */
class TypeBuilder {
  readonly env = installKubeLibrary(new Environment(ENV_OPTS));
  private n = 0;
  private readonly names = new Map<Schema, string>();

  typeOf(s: Schema): string {
    if (s['x-kubernetes-int-or-string'] === true) return 'dyn';
    switch (s.type) {
      case 'integer': return 'int';
      case 'number': return 'double';
      case 'boolean': return 'bool';
      // As upstream, date-time strings are CEL timestamps (rules compare them with timestamp("...")).
      case 'string': return s.format === 'date-time' ? 'google.protobuf.Timestamp' : 'string';
      case 'array': { const it = items(s); return `list<${it ? this.typeOf(it) : 'dyn'}>`; }
      case 'object': break;
      default: return 'dyn';
    }
    const a = addl(s);
    if (a) return `map<string, ${this.typeOf(a)}>`;
    // As upstream (SchemaDeclType): an object without properties has no accessible fields, even
    // with x-kubernetes-preserve-unknown-fields, so `self.undeclared` fails to compile.
    let p = props(s) ?? {};
    if (s['x-kubernetes-embedded-resource'] === true) p = props(withRootFields({ ...s, properties: p })) ?? {};
    const known = this.names.get(s);
    if (known) return known;
    const name = `Obj${this.n++}`;
    this.names.set(s, name);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) {
      const c = celName(k);
      if (c) fields[c] = this.typeOf(v);
    }
    this.env.registerType(name, { fields });
    // Equality on custom types only needs to type-check here; evaluation uses plain maps.
    this.env.registerOperator(`${name} == ${name}`, () => false);
    return name;
  }
}

const dynEnv = installKubeLibrary(new Environment(ENV_OPTS))
  .registerVariable('self', 'dyn').registerVariable('oldSelf', 'dyn');

/** First line of an engine error, worded like cel-go where they differ ("no such key: x"). */
function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] ?? m).replace(/^No such key: /, 'no such key: ');
}

/** Mentions oldSelf as an identifier (not inside a string literal). */
function usesOldSelf(rule: string): boolean {
  return /\boldSelf\b/.test(rule.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""'));
}

export interface RuleError { index: number; field: 'rule' | 'messageExpression'; message: string }

/**
 * Compiles a schema's rules. All CEL types are registered up front, because the engine freezes an
 * environment once it is cloned (one clone per node binds that node's `self` type).
 */
export class CelCompiler {
  private readonly tb = new TypeBuilder();
  private readonly selfTypes = new Map<Schema, string>();
  private readonly cache = new WeakMap<Schema, CompiledRule[]>();

  constructor(root: Schema) {
    const visit = (s: Schema, isRoot: boolean): void => {
      if (s['x-kubernetes-validations'] !== undefined) {
        try { this.selfTypes.set(s, this.tb.typeOf(isRoot ? withRootFields(s) : s)); } catch { this.selfTypes.set(s, 'dyn'); }
      }
      for (const p of Object.values(props(s) ?? {})) if (isObj(p)) visit(p, false);
      const it = items(s);
      if (it) visit(it, false);
      const a = addl(s);
      if (a) visit(a, false);
    };
    visit(root, true);
  }

  /** Compiles the rules of one node whose `self` has the schema `s`. */
  compileNode(s: Schema): { rules: CompiledRule[]; errors: RuleError[] } {
    const cached = this.cache.get(s);
    if (cached) return { rules: cached, errors: [] };
    const list = Array.isArray(s['x-kubernetes-validations']) ? (s['x-kubernetes-validations'] as CelRule[]) : [];
    const selfType = this.selfTypes.get(s) ?? 'dyn';
    const env = this.tb.env.clone().registerVariable('self', selfType).registerVariable('oldSelf', selfType);
    const rules: CompiledRule[] = [];
    const errors: RuleError[] = [];
    list.forEach((spec, index) => {
      if (!isObj(spec) || typeof spec.rule !== 'string' || spec.rule.trim() === '') {
        errors.push({ index, field: 'rule', message: 'Required value' });
        return;
      }
      const checked = env.check(spec.rule);
      if (!checked.valid) {
        errors.push({ index, field: 'rule', message: `Invalid value: ${JSON.stringify(spec.rule)}: compilation failed: ERROR: <input>: ${firstLine(checked.error).replace(/^no such key: (.*)$/, "undefined field '$1'")}` });
        return;
      }
      if (checked.type !== 'bool' && checked.type !== 'dyn') {
        errors.push({ index, field: 'rule', message: `Invalid value: ${JSON.stringify(spec.rule)}: compilation failed: cel expression must evaluate to a bool` });
        return;
      }
      const compiled: CompiledRule = { spec, transition: usesOldSelf(spec.rule), run: dynEnv.parse(spec.rule) };
      if (typeof spec.messageExpression === 'string') {
        const mc = env.check(spec.messageExpression);
        if (!mc.valid || (mc.type !== 'string' && mc.type !== 'dyn')) {
          const why = mc.valid ? 'must evaluate to a string' : firstLine(mc.error);
          errors.push({ index, field: 'messageExpression', message: `Invalid value: ${JSON.stringify(spec.messageExpression)}: messageExpression compilation failed: ERROR: <input>: ${why}` });
          return;
        }
        compiled.messageRun = dynEnv.parse(spec.messageExpression);
      }
      rules.push(compiled);
    });
    if (errors.length === 0) this.cache.set(s, rules);
    return { rules, errors };
  }
}

/** JSON value -> CEL value for the node schema: integers become BigInt, names are escaped. */
export function toCel(v: unknown, s: Schema | undefined): unknown {
  if (typeof v === 'number') {
    if (s?.type === 'number') return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === 'string' && s?.format === 'date-time' && s.type === 'string') return new Date(v);
  if (Array.isArray(v)) { const it = s && items(s); return v.map((e) => toCel(e, it)); }
  if (!isObj(v)) return v;
  const p = s && props(s);
  const a = s && addl(s);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (a) { out[k] = toCel(val, a); continue; }
    const c = p ? celName(k) : k;
    if (c !== undefined) out[c] = toCel(val, p?.[k]);
  }
  return out;
}

export { firstLine };
