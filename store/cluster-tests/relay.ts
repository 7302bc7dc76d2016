import { createServer, connect, type Server, type Socket } from 'node:net';
import { unpack } from 'msgpackr';

/**
 * A fault-injecting TCP relay in front of one member's peer port. It reads each connection's
 * handshake to learn which member is calling, so it can cut exactly the links a partition
 * names (existing connections are reset, new ones refused), silence them (nothing passes and
 * nothing closes, as when packets are dropped) and add delay.
 */
export class PeerRelay {
  private server: Server | null = null;
  private readonly conns = new Set<{ from: number; a: Socket; b: Socket; lost: boolean }>();
  /** Connections accepted while their member was silenced: never forwarded. */
  private readonly held = new Set<Socket>();
  /** Member ids whose connections to this member are cut. */
  readonly blocked = new Set<number>();
  /** Member ids whose connections to this member are silenced. */
  readonly silenced = new Set<number>();
  delayMs = 0;
  port = 0;
  /** Connections passed through to the member since start(). */
  forwarded = 0;

  constructor(private readonly targetPort: number) {}

  /** Listens on `port` (0: one the OS picks). */
  async start(port = 0): Promise<number> {
    this.server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    let buf = Buffer.alloc(0);
    client.on('error', () => {});
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return;
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) return;
      client.off('data', onData);
      let from = -1;
      try {
        from = (unpack(buf.subarray(4, 4 + len)) as { from: number }).from;
      } catch {
        client.destroy();
        return;
      }
      if (this.blocked.has(from)) {
        client.destroy();
        return;
      }
      if (this.silenced.has(from)) {
        this.held.add(client);
        client.on('data', () => {});
        client.on('close', () => this.held.delete(client));
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      const entry = { from, a: client, b: upstream, lost: false };
      this.forwarded++;
      this.conns.add(entry);
      const done = () => {
        this.conns.delete(entry);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', done);
      upstream.on('close', done);
      const forward = (src: Socket, dst: Socket) =>
        src.on('data', (d: Buffer) => {
          if (entry.lost) return;
          if (this.delayMs > 0) setTimeout(() => dst.writable && dst.write(d), this.delayMs);
          else if (dst.writable) dst.write(d);
        });
      upstream.write(buf);
      forward(client, upstream);
      forward(upstream, client);
      client.resume();
    };
    client.on('data', onData);
  }

  block(from: number): void {
    this.blocked.add(from);
    for (const c of this.conns) {
      if (c.from === from) {
        c.a.destroy();
        c.b.destroy();
      }
    }
  }

  /**
   * From now on nothing passes between `from` and this member, and nothing is closed: its open
   * connections lose every byte for good (a link whose far end is gone without a word), and
   * new ones are accepted but never forwarded until heal().
   */
  silence(from: number): void {
    this.silenced.add(from);
    for (const c of this.conns) if (c.from === from) c.lost = true;
  }

  /** New connections pass again; connections silenced stay lost. */
  heal(): void {
    this.blocked.clear();
    this.silenced.clear();
  }

  /** Connections from `from` open through the relay, silenced ones included until a side closes them. */
  openFrom(from: number): number {
    return [...this.conns].filter((c) => c.from === from).length;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) {
      c.a.destroy();
      c.b.destroy();
    }
    for (const s of this.held) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
