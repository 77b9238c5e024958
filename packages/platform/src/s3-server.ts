/**
 * The local platform's object storage: s3rver, a real S3 protocol server (REST, SigV4,
 * buckets and objects on disk), serving a folder of the stack's state. It knows one key
 * pair (local-s3.ts), which the platform hands to the functions.
 *
 * s3rver is a development dependency: only the local platform and the tests load it (by
 * this file, in their own process), never a function bundle.
 */
import { mkdirSync } from 'node:fs';

export interface RunningS3Server {
  /** http://127.0.0.1:<port>, what S3_ENDPOINT holds. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts s3rver on `host:port` (0: a free port), keeping buckets and objects in `directory`. */
export async function startS3Server(options: {
  directory: string;
  port?: number;
  host?: string;
}): Promise<RunningS3Server> {
  mkdirSync(options.directory, { recursive: true });
  // Loaded here, not at the top: only a process that runs the server needs the package.
  const { default: S3rver } = await import('s3rver');
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({
    port: options.port ?? 0,
    address: host,
    silent: true,
    directory: options.directory,
    resetOnClose: false,
  });
  const address = await server.run();
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => server.close(),
  };
}
