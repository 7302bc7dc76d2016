import { STATUS_CODES } from 'node:http';
import { fieldsAsText, type Answer } from '../answer.ts';

/** Go's and node:http's Date field changes once a second: one string per second, not per answer. */
let dateSecond = -1;
let dateField = '';

function dateNow(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateField = new Date(second * 1000).toUTCString();
  }
  return dateField;
}

/**
 * An answer as node:http writes it for writeAnswer (answer.ts): the status line, the fields in
 * their order, Content-Length, Date, then Connection (with Keep-Alive's timeout while the
 * connection stays open). One string, so one write. A HEAD answer has no body.
 */
export function answerBytes(a: Answer, head: boolean, keepAlive: boolean, keepAliveTimeoutMs: number): string {
  let out = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? 'unknown'}\r\n`;
  out += a.fieldsText ?? fieldsAsText(a.headers);
  out += `Content-Length: ${Buffer.byteLength(a.body)}\r\nDate: ${dateNow()}\r\n`;
  out += keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n` : 'Connection: close\r\n\r\n';
  return head ? out : out + a.body;
}
