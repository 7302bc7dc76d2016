import type { IncomingMessage } from 'node:http';

/** Whether the request carries a body (by its headers; it may not have arrived yet). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}
