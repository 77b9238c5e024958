/**
 * Runs the local platform's S3 server (s3rver) as a process:
 *
 *   node packages/platform/src/s3-server-main.ts --directory DIR [--port 0] [--host 127.0.0.1]
 *
 * Prints one JSON line `{"url": …}` on stdout once listening and exits cleanly on SIGTERM or
 * SIGINT. Objects stay in DIR across restarts.
 */
import { parseArgs } from 'node:util';
import { startS3Server } from './s3-server.ts';

const { values } = parseArgs({
  options: { directory: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
});
if (values.directory === undefined) {
  console.error('usage: node packages/platform/src/s3-server-main.ts --directory DIR [--port 0] [--host 127.0.0.1]');
  process.exit(2);
}
const server = await startS3Server({
  directory: values.directory,
  port: Number(values.port ?? 0),
  ...(values.host ? { host: values.host } : {}),
});
console.log(JSON.stringify({ url: server.url }));
const stop = (): void => {
  void server.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
