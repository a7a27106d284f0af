// Which images this kubelet can "pull": the project's image (any repository named kubedask,
// as the chart and the operator default to ghcr.io/kubedask/kubedask) and the images mapped
// to a local entrypoint with `kubedask sim --image NAME=COMMAND`. Any other image fails to
// pull, as it would on a node that cannot fetch it, so a typo never runs our CLI instead.

/** The project's image: its entrypoint is the `kubedask` CLI (the Dockerfile's ENTRYPOINT). */
export const PROJECT_REPOSITORY = 'kubedask';
const PROJECT_ENTRYPOINT = ['kubedask'];

interface ImageRef { repository: string; tag?: string; digest?: string }

/**
 * Splits a reference as the container runtime does: registry/path:tag@digest, with Docker Hub
 * names completed (`python` is docker.io/library/python), so that `python` and
 * `docker.io/library/python:3.12` name the same repository.
 */
export function parseImageRef(image: string): ImageRef | undefined {
  const [named, digest, extra] = image.split('@');
  if (!named || extra !== undefined || /\s/.test(image)) return undefined;
  const lastSlash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const path = colon > lastSlash ? named.slice(0, colon) : named;
  const tag = colon > lastSlash ? named.slice(colon + 1) : undefined;
  if (tag === '' || !/^[a-z0-9]+([._/:-]+[a-z0-9]+)*$/.test(path)) return undefined;
  const parts = path.split('/');
  const hasRegistry = parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost');
  const repository = hasRegistry ? path : `docker.io/${parts.length === 1 ? 'library/' : ''}${path}`;
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export type PullResult =
  | { entrypoint: string[] }
  | { reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string };

/**
 * "Pulls" a container's image: its entrypoint when this kubelet can run it, else why not.
 * `mapped` is NAME -> entrypoint from `--image`; a NAME with a tag matches that tag only, one
 * without matches every tag. The most specific mapping wins.
 */
export function pullImage(image: string, pullPolicy: string | undefined, mapped: Record<string, string[]>): PullResult {
  const ref = parseImageRef(image);
  if (!ref) return { reason: 'InvalidImageName', message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format` };
  const entrypoint = mappedEntrypoint(ref, mapped)
    ?? (ref.repository.split('/').pop() === PROJECT_REPOSITORY ? PROJECT_ENTRYPOINT : undefined);
  if (entrypoint) return { entrypoint };
  if (pullPolicy === 'Never') return { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
  return {
    reason: 'ErrImagePull',
    message: `image "${image}" is not available to kube-sim: it runs only the kubedask image and images mapped to a local command with \`kubedask sim --image NAME=COMMAND\``,
  };
}

function mappedEntrypoint(ref: ImageRef, mapped: Record<string, string[]>): string[] | undefined {
  let best: { entrypoint: string[]; exact: boolean } | undefined;
  for (const [name, entrypoint] of Object.entries(mapped)) {
    const key = parseImageRef(name);
    if (!key || key.repository !== ref.repository) continue;
    if (key.tag !== undefined && key.tag !== (ref.tag ?? 'latest')) continue;
    if (!best || (key.tag !== undefined && !best.exact)) best = { entrypoint, exact: key.tag !== undefined };
  }
  return best?.entrypoint;
}

/** A pull that failed is tried again after these waits, as the kubelet backs off (10 s to 5 min
 *  there; shorter here, so that tests see the retries). */
export const PULL_BACKOFF_MS = [2_000, 4_000, 8_000, 16_000, 30_000];
/** How long a failed pull shows ErrImagePull before the container is in ImagePullBackOff. */
export const ERR_IMAGE_PULL_SHOWN_MS = 1_000;
