/**
 * A real S3 protocol server for a test: s3rver in a child process (the same entry point the
 * local platform runs, packages/platform/src/s3-server-main.ts) over a temporary folder, on a
 * free port. Not a mock of the client: the minio client signs and sends real S3 requests.
 * Stopping it (and starting it again on the same port and folder) is an outage a test can cause.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStoreConfig } from '@streamforge/core/objects';
import { freePort } from '@streamforge/platform';
import { PROJECT_ROOT } from '@streamforge/platform';
import { LOCAL_S3_CREDENTIALS } from '@streamforge/platform';
import { startNodeProcess, type NodeProcess } from './process.ts';
import { uniqueName } from './unique.ts';

const MAIN = join(PROJECT_ROOT, 'packages', 'platform', 'src', 's3-server-main.ts');

export interface TestS3Server {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The S3_* variables a function would get for this server and `bucket`. */
  variables(bucket?: string): Record<string, string>;
  /** An object-store configuration for this server and `bucket` (a unique one by default). */
  config(bucket?: string): ObjectStoreConfig;
  /** Stops the server, keeping its objects (an outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

export async function startTestS3Server(): Promise<TestS3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'sf-s3-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let running: NodeProcess | undefined;
  const start = async (): Promise<void> => {
    running = startNodeProcess(MAIN, ['--directory', directory, '--port', String(port)]);
    await running.announced;
  };
  const stop = async (): Promise<void> => {
    await running?.stop();
    running = undefined;
  };
  await start();
  const bucketOf = (bucket?: string): string => bucket ?? uniqueName('sf-test').toLowerCase();
  return {
    url,
    variables: (bucket) => ({
      S3_ENDPOINT: url,
      S3_ACCESS_KEY: LOCAL_S3_CREDENTIALS.accessKey,
      S3_SECRET_KEY: LOCAL_S3_CREDENTIALS.secretKey,
      S3_BUCKET: bucketOf(bucket),
    }),
    config: (bucket) => ({
      host: '127.0.0.1',
      port,
      useSSL: false,
      ...LOCAL_S3_CREDENTIALS,
      bucket: bucketOf(bucket),
      region: 'us-east-1',
    }),
    stop,
    start,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
