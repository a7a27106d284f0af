// The client certificate the operator presents to a cluster's scheduler when the cluster uses
// mutual TLS: read from the cluster's own Secret (ca.crt, tls.crt, tls.key) and kept briefly.
import { tlsFromSecretData, type Tls } from '../../protocol/tls.js';
import type { DaskCluster } from '../api/types.js';
import { tlsSecretName } from '../builders/tls.js';
import { R } from '../k8s/resources.js';
import type { ReconcileContext, Secret } from './context.js';
import { TlsSecretError } from './errors.js';

const cache = new Map<string, { at: number; tls: Tls }>();
const TTL_MS = 60_000;

export async function clusterTls(ctx: ReconcileContext, cluster: DaskCluster): Promise<Tls | undefined> {
  const secretName = tlsSecretName(cluster.spec);
  if (!secretName) return undefined;
  const ns = cluster.metadata.namespace!;
  const k = `${ns}/${secretName}`;
  const hit = cache.get(k);
  if (hit && ctx.now() - hit.at < TTL_MS) return hit.tls;
  cache.delete(k);
  const secret = await ctx.api.get<Secret>(R.secrets, ns, secretName);
  if (!secret) throw new TlsSecretError(`spec.security.tls.secretName: Secret ${k} not found`);
  const tls = tlsFromSecretData(secret.data, (name) => new TlsSecretError(`spec.security.tls.secretName: Secret ${k} has no ${name}`));
  cache.set(k, { at: ctx.now(), tls });
  return tls;
}
