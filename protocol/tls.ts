// TLS for every gRPC connection: scheduler, workers' data ports and clients. With TLS on,
// both ends present certificates signed by the cluster's CA (mutual TLS), as Dask's TLS
// setup does. Without it, connections are plain (the local default).
import * as grpc from '@grpc/grpc-js';
import { KubedaskError } from './errors.js';

/** PEM contents. All three are needed: every process is both a server and a client. */
export interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function serverCredentials(tls: Tls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

// The peer must present a certificate signed by the cluster's CA, but its name is not checked,
// as in Dask: workers reach each other by pod IP, which no certificate made in advance can name.
// The CA is the cluster's own, and both ends prove themselves (mutual TLS).
export function channelCredentials(tls: Tls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: () => undefined });
}

/** Checks that the three PEM parts look like what they claim to be. */
export function checkTls(tls: Tls): Tls {
  const want: [keyof Tls, RegExp][] = [['ca', /-----BEGIN CERTIFICATE-----/], ['cert', /-----BEGIN CERTIFICATE-----/], ['key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/]];
  for (const [part, pattern] of want) {
    if (!pattern.test(tls[part].toString('utf8'))) throw new KubedaskError(`TLS ${part} is not a PEM ${part === 'key' ? 'private key' : 'certificate'}`);
  }
  return tls;
}

/** The certificate in a Kubernetes TLS Secret's data (base64 ca.crt, tls.crt, tls.key), as the
 *  operator and KubeCluster read a cluster's; `missing(key)` is the error for an absent key. */
export function tlsFromSecretData(data: Record<string, string> | undefined, missing: (key: string) => Error): Tls {
  const part = (key: string) => {
    const b64 = data?.[key];
    if (!b64) throw missing(key);
    return Buffer.from(b64, 'base64');
  };
  return { ca: part('ca.crt'), cert: part('tls.crt'), key: part('tls.key') };
}
