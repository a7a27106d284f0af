// Decoding of the Kubernetes protobuf request bodies that typed Go clients send (helm's release
// Secrets, `kubectl create configmap|secret|namespace|serviceaccount`, DeleteOptions), for the
// few kinds they write. Responses stay JSON: those clients also accept JSON.
import { unsupportedMediaType } from './errors.js';

type FieldType = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'mapString' | 'mapBytes' | Schema;
interface Field { name: string; type: FieldType; repeated?: boolean }
type Schema = Record<number, Field>;

const TIME: Schema = { 1: { name: 'seconds', type: 'int' }, 2: { name: 'nanos', type: 'int' } };
const OWNER_REF: Schema = {
  1: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' }, 6: { name: 'controller', type: 'bool' }, 7: { name: 'blockOwnerDeletion', type: 'bool' },
};
const OBJECT_META: Schema = {
  1: { name: 'name', type: 'string' }, 2: { name: 'generateName', type: 'string' }, 3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' }, 6: { name: 'resourceVersion', type: 'string' }, 7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' }, 9: { name: 'deletionTimestamp', type: 'time' }, 10: { name: 'deletionGracePeriodSeconds', type: 'int' },
  11: { name: 'labels', type: 'mapString' }, 12: { name: 'annotations', type: 'mapString' },
  13: { name: 'ownerReferences', type: OWNER_REF, repeated: true }, 14: { name: 'finalizers', type: 'string', repeated: true },
};
const OBJECT_REF: Schema = { 1: { name: 'kind', type: 'string' }, 2: { name: 'namespace', type: 'string' }, 3: { name: 'name', type: 'string' } };
const LOCAL_REF: Schema = { 1: { name: 'name', type: 'string' } };
const KINDS: Record<string, Schema> = {
  Secret: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: 'mapBytes' }, 3: { name: 'type', type: 'string' }, 4: { name: 'stringData', type: 'mapString' }, 5: { name: 'immutable', type: 'bool' } },
  ConfigMap: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: 'mapString' }, 3: { name: 'binaryData', type: 'mapBytes' }, 4: { name: 'immutable', type: 'bool' } },
  Namespace: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  ServiceAccount: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'secrets', type: OBJECT_REF, repeated: true }, 3: { name: 'imagePullSecrets', type: LOCAL_REF, repeated: true }, 4: { name: 'automountServiceAccountToken', type: 'bool' } },
  DeleteOptions: {
    1: { name: 'gracePeriodSeconds', type: 'int' }, 2: { name: 'preconditions', type: { 1: { name: 'uid', type: 'string' }, 2: { name: 'resourceVersion', type: 'string' } } },
    3: { name: 'orphanDependents', type: 'bool' }, 4: { name: 'propagationPolicy', type: 'string' }, 5: { name: 'dryRun', type: 'string', repeated: true },
  },
};
const UNKNOWN: Schema = { 1: { name: 'typeMeta', type: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } }, 2: { name: 'raw', type: 'bytes' } };

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (r.pos < buf.length) {
    const tag = Number(r.varint());
    const num = tag >> 3;
    const wire = tag & 7;
    let value: unknown;
    if (wire === 0) value = r.varint();
    else if (wire === 2) value = r.bytes();
    else if (wire === 1) { r.pos += 8; continue; } else if (wire === 5) { r.pos += 4; continue; } else break;
    const field = schema[num];
    if (!field) continue;
    const decoded = decodeField(field.type, value);
    if (field.type === 'mapString' || field.type === 'mapBytes') {
      const [k, v] = decoded as [string, unknown];
      out[field.name] = { ...(out[field.name] as object | undefined), [k]: v };
    } else if (field.repeated) {
      out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), decoded];
    } else {
      out[field.name] = decoded;
    }
  }
  return out;
}

function decodeField(type: FieldType, value: unknown): unknown {
  switch (type) {
    case 'string': return (value as Buffer).toString('utf8');
    case 'bytes': return value as Buffer;
    case 'int': return Number(BigInt.asIntN(64, value as bigint));
    case 'bool': return value !== 0n;
    case 'time': {
      const t = decodeMessage(value as Buffer, TIME);
      return new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'mapString': case 'mapBytes': {
      const entry = decodeMessage(value as Buffer, { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: type === 'mapBytes' ? 'bytes' : 'string' } });
      const v = entry.v ?? (type === 'mapBytes' ? Buffer.alloc(0) : '');
      return [entry.k ?? '', Buffer.isBuffer(v) ? v.toString('base64') : v];
    }
    default: return decodeMessage(value as Buffer, type);
  }
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `k8s\0`-framed protobuf body into the JSON object it stands for. */
export function decodeKubeProtobuf(body: Buffer, contentType: string): Record<string, unknown> {
  if (body.length === 0) return {};
  if (!body.subarray(0, 4).equals(MAGIC)) throw unsupportedMediaType(contentType);
  const unknown = decodeMessage(body.subarray(4), UNKNOWN);
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = KINDS[typeMeta.kind ?? ''];
  if (!schema) throw unsupportedMediaType(`${contentType} (kind ${typeMeta.kind ?? 'unknown'})`);
  const obj = decodeMessage((unknown.raw as Buffer | undefined) ?? Buffer.alloc(0), schema);
  if (typeMeta.kind === 'DeleteOptions') return obj;
  return { apiVersion: typeMeta.apiVersion || 'v1', kind: typeMeta.kind, ...obj, metadata: obj.metadata ?? {} };
}
