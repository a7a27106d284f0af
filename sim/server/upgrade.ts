// HTTP upgrade edge: streaming subresources (pods/portforward, pods/exec) switch protocols instead of
// answering JSON. Dispatches by subresource; anything else is refused with a Status, never left hanging.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest, unknownPath } from './errors.js';
import type { RouterContext } from './http-router.js';
import { proxyExec } from './pod-exec.js';
import { servePortForward } from './portforward.js';
import { writeRawResponse } from './raw-response.js';
import type { UpgradeRequest } from './upgrade-request.js';

const handlers: Record<string, (u: UpgradeRequest) => Promise<void> | void> = {
  portforward: servePortForward,
  exec: proxyExec,
};

export function handleUpgrade(ctx: RouterContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // /api/v1/namespaces/{ns}/pods/{name}/{subresource}
    const [api, version, nsWord, namespace, plural, name, subresource, ...extra] = parts;
    if (api !== 'api' || version !== 'v1' || nsWord !== 'namespaces' || plural !== 'pods' || !name || extra.length > 0) throw unknownPath();
    const handler = subresource ? handlers[subresource] : undefined;
    if (!handler) throw badRequest(`${subresource ?? 'this resource'} does not support a protocol upgrade`);
    const type = ctx.types.find('', 'v1', 'pods');
    if (!type) throw unknownPath();
    await handler({ ctx, req, socket, head, url, pod: { type, version: 'v1', namespace, name } });
  })().catch((err: unknown) => rejectUpgrade(socket, err));
}

/** Answers a refused upgrade as the API server answers any failed request: a Status body. */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  writeRawResponse(socket, apiError.code, JSON.stringify(apiError.toStatus()), 'application/json');
}
