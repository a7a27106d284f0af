// Errors of the Kubernetes edge: a failed API call carries the server's Status.
export interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { retryAfterSeconds?: number; [key: string]: unknown };
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly reason: string;
  readonly details?: unknown;
  readonly retryAfterSeconds?: number;

  constructor(o: { status: number; reason: string; message: string; details?: unknown; retryAfterSeconds?: number; cause?: unknown }) {
    super(o.message, o.cause === undefined ? undefined : { cause: o.cause });
    this.status = o.status;
    this.reason = o.reason;
    this.details = o.details;
    this.retryAfterSeconds = o.retryAfterSeconds;
  }

  /** From a response (or watch ERROR event) Status body; `what` is e.g. `get pods "p" in "ns"`. */
  static fromStatus(what: string, status: number, body: unknown, retryAfterHeader?: string | null): ApiError {
    const s = (typeof body === 'object' && body !== null ? body : {}) as StatusBody;
    const code = typeof s.code === 'number' && s.code > 0 ? s.code : status;
    const header = retryAfterHeader ? Number(retryAfterHeader) : NaN;
    const retryAfterSeconds = Number.isFinite(header) ? header : s.details?.retryAfterSeconds;
    const serverMessage = s.message ?? (typeof body === 'string' && body ? body : `HTTP ${status}`);
    return new ApiError({ status: code, reason: s.reason ?? 'Unknown', message: `${what}: ${serverMessage}`, details: s.details, retryAfterSeconds });
  }
}

/** A request that never got an HTTP answer: refused, reset, timed out. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  constructor(message: string, readonly code: string | undefined, cause: unknown) {
    super(message, { cause });
  }
}

const statusIs = (code: number) => (e: unknown): boolean => e instanceof ApiError && e.status === code;
export const isNotFound = statusIs(404);
export const isGone = statusIs(410);
export const isInvalid = statusIs(422);
export const isTooManyRequests = statusIs(429);
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409 && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.status === 409 && e.reason === 'AlreadyExists';
