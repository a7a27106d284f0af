// Discovery documents kubectl and helm read: /api, /apis, group versions, /version, openapi.
import { ALL_VERBS, apiVersionOf, type ResourceType, type TypeRegistry } from './resource-types.js';

export function versionInfo(): Record<string, string> {
  return {
    major: '1', minor: '33', gitVersion: 'v1.33.0', gitCommit: 'kube-sim', gitTreeState: 'clean',
    buildDate: '2025-04-23T00:00:00Z', goVersion: 'go1.24.2', compiler: 'gc', platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function groupList(types: TypeRegistry): Record<string, unknown> {
  const groups = [...types.groups()].map(([name, versions]) => apiGroup(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function groupDoc(types: TypeRegistry, group: string): Record<string, unknown> | undefined {
  const versions = types.groups().get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

/** Pod subresources the real server lists with their own kind and verbs. */
const STREAM_SUBRESOURCES: Record<string, { kind: string; verbs: string[] }> = {
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
};

function resourceEntries(t: ResourceType): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: ALL_VERBS };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out = [main];
  const sub = (name: string, kind: string, verbs: string[], extra: Record<string, unknown> = {}): void => {
    out.push({ name: `${t.plural}/${name}`, singularName: '', namespaced: t.namespaced, kind, verbs, ...extra });
  };
  if (t.status) sub('status', t.kind, ['get', 'patch', 'update']);
  if (t.scale) sub('scale', 'Scale', ['get', 'patch', 'update'], { group: 'autoscaling', version: 'v1' });
  for (const extra of t.extraSubresources ?? []) {
    const known = STREAM_SUBRESOURCES[extra];
    sub(extra, known?.kind ?? t.kind, known?.verbs ?? ['create', 'update']);
  }
  return out;
}

export function resourceList(types: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const served = types.all().filter((t) => t.group === group && t.versions.includes(version));
  if (served.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources: served.flatMap(resourceEntries) };
}

/** OpenAPI v3 index: one (empty) document per served group version. */
export function openApiV3Index(types: TypeRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1' } };
  for (const [group, versions] of types.groups()) {
    for (const v of versions) paths[`apis/${group}/${v}`] = { serverRelativeURL: `/openapi/v3/apis/${group}/${v}` };
  }
  return { paths };
}

/**
 * OpenAPI v3 document of one group version: a PATCH path per kind that declares the
 * `fieldValidation` query parameter, which is what kubectl looks for before it leaves
 * validation to the server (otherwise it downloads protobuf OpenAPI v2, which we don't serve).
 */
export function openApiV3Doc(types: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const served = types.all().filter((t) => t.group === group && t.versions.includes(version));
  if (served.length === 0) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  for (const t of served) {
    const path = `${prefix}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.plural}/{name}`;
    const parameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } }));
    const gvk = { group, version, kind: t.kind };
    paths[path] = {
      get: { operationId: `read${t.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: {} },
      put: { operationId: `replace${t.kind}`, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters, responses: {} },
      patch: { operationId: `patch${t.kind}`, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters, responses: {} },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.33.0' }, paths, components: { schemas: {} } };
}
