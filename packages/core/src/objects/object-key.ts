/**
 * Object keys as this project writes and reads them. Apart from the client, so what only
 * checks a key (a gnn_train request at the manager's door) does not load the minio client.
 */
import { StreamForgeError } from '../errors.ts';

/** S3 keys: 1–1024 bytes; we allow the characters S3 calls safe, `/` separating segments, no empty or `..` segment. */
const KEY = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;

export function checkObjectKey(key: unknown, field = 'key'): string {
  if (
    typeof key !== 'string' ||
    key.length > 1024 ||
    !KEY.test(key) ||
    key.split('/').some((s) => s === '.' || s === '..')
  ) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `${field}: ${JSON.stringify(key)} is not an object key (segments of A-Z a-z 0-9 ! _ . * ' ( ) - separated by /, at most 1024 characters)`,
      { details: { field } },
    );
  }
  return key;
}
