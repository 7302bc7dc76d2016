/**
 * node:http's answer to a request it could not read (a parse error, a head too large, a client
 * too slow): a status line and Connection: close, no body. The fast path answers the same.
 */
export type BareStatus = '400 Bad Request' | '408 Request Timeout' | '431 Request Header Fields Too Large';

export function bareAnswer(status: BareStatus): string {
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;
}
