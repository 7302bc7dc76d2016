/**
 * A shared resource for election tests: an HTTP server that accepts `POST /act?token=T&who=W&until=U`
 * only with the newest fencing token it has seen and before the sender's lease end U (ms, same
 * clock), as a storage service guarding against stale leaders would. It records every attempt.
 */
import { createServer, type Server } from 'node:http';

/** One action the resource was asked to take, and its verdict. */
export interface Attempt {
  atMs: number;
  token: number;
  who: string;
  accepted: boolean;
  why?: 'stale-token' | 'lease-ended';
}

/** The resource server (see the file comment). */
export class FencedResource {
  readonly attempts: Attempt[] = [];
  private maxToken = 0;
  private server: Server | null = null;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const a: Attempt = { atMs: Date.now(), token: Number(q.get('token')), who: q.get('who') ?? '', accepted: false };
      if (a.token < this.maxToken) a.why = 'stale-token';
      else if (a.atMs > Number(q.get('until'))) a.why = 'lease-ended';
      else {
        a.accepted = true;
        this.maxToken = a.token;
      }
      this.attempts.push(a);
      res.writeHead(a.accepted ? 200 : 409).end(a.why ?? 'ok');
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.url;
  }

  get accepted(): Attempt[] {
    return this.attempts.filter((a) => a.accepted);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
