import { createServer } from 'node:net';
import { waitUntilReady } from './child-process.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether something accepts TCP connections on host:port now. */
export async function portOpen(host: string, port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects at the deadline. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  if ((await waitUntilReady(() => portOpen(host, port), { timeoutMs })) !== 'ready')
    throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}
