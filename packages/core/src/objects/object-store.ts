/**
 * Object storage: the port (put, get, exists, list under one bucket) and its adapter over
 * the minio client, which speaks the S3 protocol to MinIO, AWS S3 or s3rver alike. The
 * bucket is created on the first write; reads of a bucket that does not exist find nothing.
 *
 * Failures become StreamForge codes, so a function answers the right status: a missing
 * object SF_NOT_FOUND, refused credentials SF_CONFIG_INVALID, an unreachable or failing
 * server SF_DEPENDENCY_UNAVAILABLE (a KafkaSource retries), a malformed key
 * SF_CONTRACT_INVALID. minio's own retries are off: the caller's retry policy decides.
 */
import { Client, S3Error } from 'minio';
import { StreamForgeError } from '../errors.ts';
import { objectStoreConfig, type ObjectStoreConfig } from './object-config.ts';
import { checkObjectKey } from './object-key.ts';

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
}

export interface PutOptions {
  contentType?: string;
}

export interface ObjectStore {
  readonly bucket: string;
  /** `s3:http://host:port/bucket`, for logs. */
  readonly description: string;
  /** Writes (or overwrites) one object; the bucket is created if missing. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string; size: number }>;
  /** The object's bytes; SF_NOT_FOUND when there is none. */
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);
const REFUSED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** A StreamForgeError for what the minio client threw while doing `what`. */
export function objectStoreError(error: unknown, what: string): StreamForgeError {
  if (StreamForgeError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (error instanceof S3Error || typeof code === 'string') {
    if (typeof code === 'string' && NOT_FOUND.has(code))
      return new StreamForgeError('SF_NOT_FOUND', `${what}: not found (${code})`, { cause: error });
    if (typeof code === 'string' && REFUSED.has(code))
      return new StreamForgeError(
        'SF_CONFIG_INVALID',
        `${what}: object storage refused the credentials (S3_ACCESS_KEY / S3_SECRET_KEY): ${code}`,
        { cause: error },
      );
    if (typeof code === 'string' && NETWORK.has(code))
      return new StreamForgeError(
        'SF_DEPENDENCY_UNAVAILABLE',
        `${what}: object storage unreachable (${code}): ${message}`,
        { cause: error },
      );
  }
  if (/Retryable HTTP status|socket hang up|ECONNREFUSED|timeout/i.test(message))
    return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${what}: ${message}`, { cause: error });
  const name = (error as { name?: unknown }).name;
  if (name === 'InvalidBucketNameError' || name === 'InvalidEndpointError')
    return new StreamForgeError('SF_CONFIG_INVALID', `${what}: ${message}`, { cause: error });
  if (name === 'InvalidObjectNameError')
    return new StreamForgeError('SF_CONTRACT_INVALID', `${what}: ${message}`, { cause: error });
  return new StreamForgeError('SF_INTERNAL', `${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, {
    cause: error,
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** Opens the object store of `config` (default: S3_* from the environment). Nothing is contacted until the first call. */
export function openObjectStore(config: ObjectStoreConfig = objectStoreConfig()): ObjectStore {
  const client = new Client({
    endPoint: config.host,
    port: config.port,
    useSSL: config.useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region: config.region,
    // Path-style requests (http://host/bucket/key) work with every S3 server, with no DNS per bucket.
    pathStyle: true,
    retryOptions: { disableRetry: true },
  });
  const { bucket } = config;
  const description = `s3:${config.useSSL ? 'https' : 'http'}://${config.host}:${config.port}/${bucket}`;
  let bucketReady: Promise<void> | undefined;

  const run = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw objectStoreError(error, `${description}: ${what}`);
    }
  };

  /** Creates the bucket once per process; one another writer created first counts. */
  function ensureBucket(): Promise<void> {
    bucketReady ??= run(`create bucket ${bucket}`, async () => {
      if (await client.bucketExists(bucket)) return;
      try {
        await client.makeBucket(bucket, config.region);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
      }
    });
    bucketReady.catch(() => {
      bucketReady = undefined;
    });
    return bucketReady;
  }

  return {
    bucket,
    description,

    async put(key, body, options = {}) {
      checkObjectKey(key);
      await ensureBucket();
      const bytes =
        typeof body === 'string'
          ? Buffer.from(body, 'utf8')
          : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const info = await run(`put ${key}`, () =>
        client.putObject(bucket, key, bytes, bytes.length, {
          'Content-Type': options.contentType ?? 'application/octet-stream',
        }),
      );
      return { etag: info.etag, size: bytes.length };
    },

    async get(key) {
      checkObjectKey(key);
      return run(`get ${key}`, async () => collect(await client.getObject(bucket, key)));
    },

    async exists(key) {
      checkObjectKey(key);
      try {
        await run(`stat ${key}`, () => client.statObject(bucket, key));
        return true;
      } catch (error) {
        if (StreamForgeError.is(error) && error.code === 'SF_NOT_FOUND') return false;
        throw error;
      }
    },

    async list(prefix) {
      if (prefix !== '' && !/^[A-Za-z0-9!_.*'()/-]+$/.test(prefix)) checkObjectKey(prefix, 'prefix');
      try {
        return await run(`list ${prefix}`, async () => {
          const items: ObjectInfo[] = [];
          for await (const item of client.listObjectsV2(bucket, prefix, true)) {
            const o = item as { name?: string; size: number; etag?: string; lastModified?: Date };
            if (o.name !== undefined)
              items.push({
                key: o.name,
                size: o.size,
                etag: o.etag ?? '',
                lastModified: o.lastModified?.getTime() ?? 0,
              });
          }
          return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        });
      } catch (error) {
        if (StreamForgeError.is(error) && error.code === 'SF_NOT_FOUND') return [];
        throw error;
      }
    },
  };
}
