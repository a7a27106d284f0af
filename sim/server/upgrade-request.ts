// What a streaming subresource's handler is given (see upgrade.ts).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RouterContext } from './http-router.js';
import type { Target } from './rest.js';

export interface UpgradeRequest {
  ctx: RouterContext;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
  /** The pod the subresource belongs to. */
  pod: Target;
}
