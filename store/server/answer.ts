import type { ServerResponse } from 'node:http';

/**
 * A whole answer: its status, its header fields as a flat [name, value, ...] list in the order
 * they go out, and a body framed by its length (Content-Length is added when it is written, as
 * Go's net/http frames a small body). The keys handler builds these once; node:http
 * (`writeAnswer`) and the fast path (fast-path/answer-bytes.ts) send the same fields in the same order.
 */
export interface Answer {
  status: number;
  headers: readonly string[];
  body: string;
  /** The same fields as HTTP head text (`Name: value\r\n` each), when the answer has them so. */
  readonly fieldsText?: string;
}

/** A flat [name, value, ...] list as HTTP head text: `Name: value\r\n` each. */
export function fieldsAsText(headers: readonly string[]): string {
  let text = '';
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return text;
}

export function writeAnswer(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, [...a.headers, 'Content-Length', String(Buffer.byteLength(a.body))]);
  res.end(a.body);
}
