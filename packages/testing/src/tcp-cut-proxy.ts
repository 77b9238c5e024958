/**
 * A TCP proxy that can cut every connection through it at once, as a network cut or a server
 * ending its long requests would: bytes pass untouched (TLS included, so a client still checks
 * the server's certificate), and new connections are served again right after the cut.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpCutProxy {
  port: number;
  /** Destroys every open connection, both sides. */
  cut(): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startTcpCutProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpCutProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    accepted += 1;
    const target = connect(targetPort, targetHost);
    track(client);
    track(target);
    client.pipe(target);
    target.pipe(client);
    client.once('close', () => target.destroy());
    target.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const cut = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: address.port,
    cut,
    accepted: () => accepted,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
