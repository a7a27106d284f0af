// Errors of the process kubelet.

/** A failed call to the API server. */
export class KubeRestError extends Error {
  override name = 'KubeRestError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
