import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { FastConnection, type FastConnectionOptions } from './fast-connection.ts';

export interface FastPath {
  /** Ends every connection still on the fast path: idle ones now, busy ones once answered. */
  closeAll(): void;
}

export interface FastPathOptions extends Omit<FastConnectionOptions, 'handOff'> {
  /** A connection went to node:http (counted in the metrics). */
  onHandOff(): void;
}

/**
 * Puts the fast path in front of a listening node:http server: each new connection starts on
 * the fast path, and node:http's own connection handling runs only when the fast path hands a
 * connection over. node:http still listens, so its connection tracking and slow-client checks
 * cover every connection it is given.
 */
export function serveFastPath(server: Server, o: FastPathOptions): FastPath {
  const nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const open = new Set<FastConnection>();
  const handOff = (socket: Socket) => {
    o.onHandOff();
    for (const listener of nodeListeners) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    const c = new FastConnection(socket, {
      ...o,
      handOff: (s) => {
        open.delete(c);
        handOff(s);
      },
    });
    open.add(c);
    socket.once('close', () => open.delete(c));
  });
  return {
    closeAll() {
      for (const c of open) c.close();
    },
  };
}
