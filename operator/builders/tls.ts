// Mutual TLS: the Secret named by spec.security.tls (ca.crt, tls.crt, tls.key) mounted read-only.
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { TLS_ENV, type DaskClusterSpec } from '../api/types.js';

export const TLS_DIR = '/etc/kubedask/tls';
export const TLS_VOLUME = 'kubedask-tls';

export const tlsFiles = { ca: `${TLS_DIR}/ca.crt`, cert: `${TLS_DIR}/tls.crt`, key: `${TLS_DIR}/tls.key` } as const;

export function tlsSecretName(spec: DaskClusterSpec): string | undefined {
  return spec.security?.tls?.secretName || undefined;
}

// 0440: readable by the pod's fsGroup (the secure defaults set one), not by others.
export function tlsVolume(secretName: string): IVolume {
  return { name: TLS_VOLUME, secret: { secretName, defaultMode: 0o440 } };
}

export const tlsMount: IVolumeMount = { name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true };

/** The kubedask CLI's TLS flags (scheduler and worker). */
export function tlsArgs(): [string, string][] {
  return [['--tls-ca', tlsFiles.ca], ['--tls-cert', tlsFiles.cert], ['--tls-key', tlsFiles.key]];
}

/** Where a runner's client program finds the files (it has no flags of ours). */
export function tlsEnv(): IEnvVar[] {
  return [
    { name: TLS_ENV.ca, value: tlsFiles.ca },
    { name: TLS_ENV.cert, value: tlsFiles.cert },
    { name: TLS_ENV.key, value: tlsFiles.key },
  ];
}
