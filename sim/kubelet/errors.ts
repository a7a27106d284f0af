// Errors of the process kubelet.

/** A container whose image the kubelet has no local command for. */
export class ImageNotRunnable extends Error {
  override name = 'ImageNotRunnable';
}

/** A failed call to the API server. */
export class KubeRestError extends Error {
  override name = 'KubeRestError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
