/**
 * A unix-socket relay in front of the Docker socket that a test can cut and restore: to the
 * registrator behind it, a cut looks like dockerd going away (streams end, connects fail), without
 * restarting the engine the other helpers share.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** The relay: point DOCKER_HOST at `dockerHost`. */
export interface DockerRelay {
  readonly dockerHost: string;
  /** Drops every connection and stops listening (the socket file disappears). */
  cut(): Promise<void>;
  /** Listens again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

function upstreamPath(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/** Starts relaying `socketPath` -> the engine's socket. */
export async function startDockerRelay(socketPath: string): Promise<DockerRelay> {
  const upstream = upstreamPath();
  const open = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const engine = connect(upstream);
        open.add(client).add(engine);
        const drop = () => {
          client.destroy();
          engine.destroy();
          open.delete(client);
          open.delete(engine);
        };
        client.on('error', drop).on('close', drop);
        engine.on('error', drop).on('close', drop);
        client.pipe(engine).pipe(client);
      });
      s.once('error', reject);
      s.listen(socketPath, () => resolve());
      server = s;
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of open) sock.destroy();
    open.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { dockerHost: `unix://${socketPath}`, cut, restore: listen, close: cut };
}
