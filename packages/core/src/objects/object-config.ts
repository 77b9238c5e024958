/**
 * Where object storage is: an S3-compatible server (MinIO in a cluster, s3rver on the local
 * platform), from S3_* variables. S3_ENDPOINT is a URL; TLS follows its scheme unless
 * S3_USE_SSL says otherwise.
 */
import { declareEnv, env } from '../config.ts';
import { StreamForgeError } from '../errors.ts';

declareEnv({
  S3_ENDPOINT: {
    default: 'http://127.0.0.1:9000',
    description: 'Object storage (S3 protocol) endpoint URL, e.g. http://minio.minio:9000.',
  },
  S3_ACCESS_KEY: { default: '', description: 'Object storage access key, from a Secret.' },
  S3_SECRET_KEY: { default: '', description: 'Object storage secret key, from a Secret.' },
  S3_BUCKET: {
    default: 'streamforge-models',
    description: 'Bucket of trained models and datasets; created on first write.',
  },
  S3_USE_SSL: { default: '', description: 'true/false to force TLS; empty: TLS when S3_ENDPOINT is https://.' },
  S3_REGION: { default: 'us-east-1', description: 'Region the bucket is created in (and requests are signed for).' },
});

export interface ObjectStoreConfig {
  /** Host name or address, without scheme or port. */
  host: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

function invalid(reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONFIG_INVALID', reason);
}

/** S3 bucket naming rules (3–63 lowercase letters, digits, dots and hyphens, a letter or digit at each end). */
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The configuration S3_* describe; throws SF_CONFIG_INVALID naming the variable when malformed. */
export function objectStoreConfig(source: NodeJS.ProcessEnv = process.env): ObjectStoreConfig {
  const endpoint = env('S3_ENDPOINT', source);
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`);
  } catch {
    throw invalid(`S3_ENDPOINT: "${endpoint}" is not a URL such as http://minio.minio:9000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(`S3_ENDPOINT: "${endpoint}" must be http:// or https://`);
  if (url.pathname !== '/' || url.search !== '' || url.username !== '')
    throw invalid(
      `S3_ENDPOINT: "${endpoint}" must be a server root, without path, query or credentials (those are S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY)`,
    );
  const ssl = env('S3_USE_SSL', source).toLowerCase();
  if (!['', 'true', 'false', '1', '0'].includes(ssl))
    throw invalid(`S3_USE_SSL: must be true, false or empty, got "${ssl}"`);
  const useSSL = ssl === '' ? url.protocol === 'https:' : ssl === 'true' || ssl === '1';
  const bucket = env('S3_BUCKET', source);
  if (!BUCKET_PATTERN.test(bucket))
    throw invalid(`S3_BUCKET: "${bucket}" is not a valid bucket name (3–63 of a-z 0-9 . -)`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    useSSL,
    accessKey: env('S3_ACCESS_KEY', source),
    secretKey: env('S3_SECRET_KEY', source),
    bucket,
    region: env('S3_REGION', source),
  };
}
