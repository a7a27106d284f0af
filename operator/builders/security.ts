// Secure defaults for every pod the operator makes (the "restricted" Pod Security Standard),
// applied under whatever the user's template set, so each one can be overridden.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { compact, deepMerge } from './merge.js';

/** The image's unprivileged user and group. */
export const RUN_AS_ID = 10001;

export const POD_SECURITY: IPodSecurityContext = {
  runAsNonRoot: true, runAsUser: RUN_AS_ID, runAsGroup: RUN_AS_ID, fsGroup: RUN_AS_ID, seccompProfile: { type: 'RuntimeDefault' },
};

export const CONTAINER_SECURITY: ISecurityContext = {
  allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
};

/** With a read-only root the processes still write temporary files (spill) and uploaded modules
 * (the image installs the package at /app; modules go to <package>/.kubedask/). */
export const WRITABLE_DIRS = [
  { name: 'kubedask-tmp', mountPath: '/tmp' },
  { name: 'kubedask-state', mountPath: '/app/.kubedask' },
] as const;

// A user who asks for uid 0 gets it: runAsNonRoot would otherwise refuse to start the container.
function nonRootUnlessRoot<T extends { runAsUser?: number; runAsNonRoot?: boolean }>(merged: T, user: T | undefined): T {
  return user?.runAsUser === 0 && user.runAsNonRoot === undefined ? { ...merged, runAsNonRoot: false } : merged;
}

function secureContainer(c: IContainer): IContainer {
  const mounts = [...(c.volumeMounts ?? [])];
  for (const dir of WRITABLE_DIRS) if (!mounts.some((m) => m.mountPath === dir.mountPath)) mounts.push({ ...dir });
  return {
    ...c,
    securityContext: nonRootUnlessRoot(deepMerge(CONTAINER_SECURITY, c.securityContext)!, c.securityContext),
    volumeMounts: mounts,
  };
}

/** The pod spec with the secure defaults under its own settings, in every container and init container. */
export function withSecureDefaults(spec: IPodSpec): IPodSpec {
  const containers = spec.containers.map(secureContainer);
  const initContainers = spec.initContainers?.map(secureContainer);
  const volumes: IVolume[] = [...(spec.volumes ?? [])];
  const used = new Set([...containers, ...(initContainers ?? [])].flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  for (const dir of WRITABLE_DIRS) {
    if (used.has(dir.name) && !volumes.some((v) => v.name === dir.name)) volumes.push({ name: dir.name, emptyDir: {} });
  }
  return compact({
    ...spec,
    securityContext: nonRootUnlessRoot(deepMerge(POD_SECURITY, spec.securityContext)!, spec.securityContext),
    containers,
    initContainers,
    volumes,
  });
}
