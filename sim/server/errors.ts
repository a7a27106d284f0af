// Every error the emulator answers is a metav1.Status, in the real API server's wording.
import type { FieldCause } from '../schema/index.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason?: string; message: string; field?: string }>;
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusBody {
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** "pods" in core, "deployments.apps" elsewhere: how the server names a resource in messages. */
export function qualifiedResource(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(group: string, plural: string, name: string): ApiError {
  const res = qualifiedResource(group, plural);
  return new ApiError(404, 'NotFound', `${res} "${name}" not found`, { name, group, kind: plural });
}

export function unknownPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(group: string, plural: string, name: string): ApiError {
  const res = qualifiedResource(group, plural);
  return new ApiError(409, 'AlreadyExists', `${res} "${name}" already exists`, { name, group, kind: plural });
}

export function conflict(group: string, plural: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  const res = qualifiedResource(group, plural);
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${res} "${name}": ${why}`, { name, group, kind: plural });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`);
}

export function forbidden(group: string, plural: string, name: string, why: string): ApiError {
  const res = qualifiedResource(group, plural);
  return new ApiError(403, 'Forbidden', `${res} "${name}" is forbidden: ${why}`, { name, group, kind: plural });
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 422 Invalid from field causes: `Kind.group "name" is invalid: field: message` (several as `[a, b]`). */
export function invalid(kind: string, group: string, name: string, causes: FieldCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, { name, group, kind, causes });
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds });
}

export function serviceUnavailable(code: number): ApiError {
  return new ApiError(code, code === 503 ? 'ServiceUnavailable' : 'InternalError', code === 503 ? 'the server is currently unable to handle the request' : 'an error on the server has prevented the request from succeeding', {});
}
