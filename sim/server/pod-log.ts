// GET pods/{name}/log: validated as the real server does (PodLogOptions, container name), then
// proxied to the kubelet's /containerLogs and streamed back as it comes (follow). The kubelet's
// plain-text refusals become Status errors as the real server's response checker makes them.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApiError, badRequest, invalid } from './errors.js';
import { kubeletOf, kubeletPath, validateContainer } from './kubelet-location.js';
import { intParam } from './query-params.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/** PodLogOptions query parameters the kubelet understands, passed through as given. */
const PASSED = ['follow', 'previous', 'timestamps', 'tailLines', 'limitBytes', 'sinceSeconds', 'sinceTime'];

function validateOptions(name: string, q: URLSearchParams): void {
  const causes: { field: string; message: string; reason: string }[] = [];
  const int = (key: string): number | undefined => intParam(q, key);
  const tail = int('tailLines');
  if (tail !== undefined && tail < 0) causes.push({ field: 'tailLines', message: `Invalid value: ${tail}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' });
  const limit = int('limitBytes');
  if (limit !== undefined && limit < 1) causes.push({ field: 'limitBytes', message: `Invalid value: ${limit}: must be greater than 0`, reason: 'FieldValueInvalid' });
  const since = int('sinceSeconds');
  if (since !== undefined && q.get('sinceTime')) causes.push({ field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', reason: 'FieldValueForbidden' });
  else if (since !== undefined && since < 1) causes.push({ field: 'sinceSeconds', message: `Invalid value: ${since}: must be greater than 0`, reason: 'FieldValueInvalid' });
  if (causes.length > 0) throw invalid('PodLogOptions', '', name, causes);
}

/** The real server's GenericHttpResponseChecker: a kubelet refusal as a Status error. */
function kubeletRefusal(code: number, body: string, name: string): ApiError {
  if (code === 400) return badRequest(body);
  if (code === 404) {
    return new ApiError(404, 'NotFound', `the server could not find the requested resource ( pods/log ${name})`,
      { name, kind: 'pods/log', causes: [{ reason: 'UnexpectedServerResponse', message: body }] });
  }
  return new ApiError(500, 'InternalError', `Internal error occurred: ${body}`);
}

export async function servePodLog(store: ObjectStore, res: ServerResponse, pod: KubeObject, q: URLSearchParams): Promise<void> {
  const name = pod.metadata.name!;
  validateOptions(name, q);
  const container = validateContainer(pod, q.get('container'));
  const kubelet = kubeletOf(store, pod);
  // A pod not yet on a node has no logs: the real server answers an empty stream.
  if (!kubelet) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
    return void res.end();
  }
  const query = new URLSearchParams();
  for (const key of PASSED) { const v = q.get(key); if (v !== null) query.set(key, v); }
  const path = kubeletPath('containerLogs', pod, container, query);
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = request({ host: kubelet.host, port: kubelet.port, path, method: 'GET' }, resolve);
    r.once('error', (err) => reject(new Error(`Get "http://${kubelet.host}:${kubelet.port}${path}": ${err.message}`)));
    r.end();
    res.once('close', () => r.destroy());
  });
  const code = upstream.statusCode ?? 500;
  if (code < 200 || code > 206) {
    const chunks: Buffer[] = [];
    for await (const c of upstream) chunks.push(c as Buffer);
    throw kubeletRefusal(code, Buffer.concat(chunks).toString('utf8'), name);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  // Piped, so a client that reads slowly slows the kubelet's reading instead of queueing here.
  upstream.pipe(res, { end: false });
  await new Promise<void>((resolve) => {
    upstream.once('end', resolve);
    upstream.once('error', resolve);
    upstream.once('close', resolve);
  });
  res.end();
}
