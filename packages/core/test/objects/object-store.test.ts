/**
 * Object storage through the minio client against a real S3 protocol server (s3rver in a
 * child process, started by the test on a free port over a temporary folder).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError, type ErrorCode } from '../../src/errors.ts';
import { objectStoreConfig } from '../../src/objects/object-config.ts';
import { openObjectStore } from '../../src/objects/object-store.ts';
import { modelKeys, parseModelKey } from '../../src/objects/model-keys.ts';
import { startTestS3Server, type TestS3Server } from '@streamforge/testing';

let s3: TestS3Server;
before(async () => {
  s3 = await startTestS3Server();
});
after(() => s3?.close());

const failsWith =
  (code: ErrorCode, reason?: RegExp) =>
  (error: unknown): boolean =>
    StreamForgeError.is(error) && error.code === code && (reason === undefined || reason.test(error.message));

test('an object put under a versioned model key comes back byte for byte; the bucket is made on the first write', async () => {
  const store = openObjectStore(s3.config());
  const keys = modelKeys('btc_graph', 3);
  assert.equal(await store.exists(keys.onnx), false);
  const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) % 256);
  const view = new Uint8Array(bytes.buffer, 5, 60_000); // a view: only its own range is written
  const written = await store.put(keys.onnx, view);
  assert.equal(written.size, 60_000);
  await store.put(keys.metadata, JSON.stringify({ metrics: { accuracy: 0.53 } }), { contentType: 'application/json' });
  assert.deepEqual(await store.get(keys.onnx), bytes.slice(5, 60_005));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(await store.get(keys.metadata))), {
    metrics: { accuracy: 0.53 },
  });
  assert.equal(await store.exists(keys.onnx), true);
  // Another client of the same bucket (another instance) reads what this one wrote.
  assert.deepEqual(await openObjectStore(s3.config(store.bucket)).get(keys.onnx), bytes.slice(5, 60_005));
});

test('list returns the objects under a prefix in key order with their sizes; a missing object is SF_NOT_FOUND', async () => {
  const store = openObjectStore(s3.config());
  assert.deepEqual(await store.list('models/'), [], 'a bucket not made yet lists nothing');
  await assert.rejects(store.get('models/x/v1/model.onnx'), failsWith('SF_NOT_FOUND'));
  for (const version of [2, 1, 10]) await store.put(modelKeys('eth', version).onnx, new Uint8Array(version));
  await store.put('datasets/karate.json', '{}');
  const listed = await store.list('models/eth/');
  assert.deepEqual(
    listed.map((o) => [o.key, o.size]),
    [
      ['models/eth/v1/model.onnx', 1],
      ['models/eth/v10/model.onnx', 10],
      ['models/eth/v2/model.onnx', 2],
    ],
  );
  assert.ok(listed.every((o) => o.etag !== '' && o.lastModified > 0));
  assert.equal((await store.list('')).length, 4);
  await assert.rejects(
    store.get('models/eth/v3/model.onnx'),
    failsWith('SF_NOT_FOUND', /models\/eth\/v3\/model\.onnx: not found \(NoSuchKey\)/),
  );
});

test('a malformed key is refused with SF_CONTRACT_INVALID before any request', async () => {
  const store = openObjectStore(s3.config());
  for (const key of ['', '/models/x', 'models//x', 'models/../x', 'models/a b', 'x'.repeat(1025)]) {
    await assert.rejects(store.put(key, 'x'), failsWith('SF_CONTRACT_INVALID', /key:/), JSON.stringify(key));
  }
});

test('refused credentials fail with SF_CONFIG_INVALID; an unreachable server with SF_DEPENDENCY_UNAVAILABLE until it is back', async () => {
  // s3rver checks the access key id (it does not verify SigV4 signatures themselves).
  const wrong = openObjectStore({ ...s3.config(), accessKey: 'SOMEONE-ELSE' });
  await assert.rejects(wrong.put('a/b', 'x'), failsWith('SF_CONFIG_INVALID', /S3_ACCESS_KEY \/ S3_SECRET_KEY/));
  const store = openObjectStore(s3.config());
  await store.put('a/b', 'before');
  await s3.stop();
  try {
    await assert.rejects(store.get('a/b'), failsWith('SF_DEPENDENCY_UNAVAILABLE', /unreachable/));
    await assert.rejects(store.put('a/c', 'during'), failsWith('SF_DEPENDENCY_UNAVAILABLE'));
  } finally {
    await s3.start();
  }
  await store.put('a/c', 'after');
  assert.equal(new TextDecoder().decode(await store.get('a/b')), 'before');
  assert.equal(new TextDecoder().decode(await store.get('a/c')), 'after');
});

test('S3_* configure the store: the endpoint URL, TLS from its scheme unless S3_USE_SSL says otherwise, the bucket name checked', () => {
  assert.deepEqual(objectStoreConfig({}), {
    host: '127.0.0.1',
    port: 9000,
    useSSL: false,
    accessKey: '',
    secretKey: '',
    bucket: 'streamforge-models',
    region: 'us-east-1',
  });
  const cluster = objectStoreConfig({
    S3_ENDPOINT: 'https://minio.minio',
    S3_ACCESS_KEY: 'ak',
    S3_SECRET_KEY: 'sk',
    S3_BUCKET: 'models.prod',
  });
  assert.deepEqual(
    [cluster.host, cluster.port, cluster.useSSL, cluster.bucket],
    ['minio.minio', 443, true, 'models.prod'],
  );
  assert.equal(objectStoreConfig({ S3_ENDPOINT: 'http://minio:9000', S3_USE_SSL: 'true' }).useSSL, true);
  assert.equal(objectStoreConfig({ S3_ENDPOINT: 'minio:9000' }).port, 9000);
  for (const [variables, reason] of [
    [{ S3_ENDPOINT: 'ftp://x' }, /S3_ENDPOINT: .* must be http/],
    [{ S3_ENDPOINT: 'http://x:9000/bucket' }, /S3_ENDPOINT: .* server root/],
    [{ S3_BUCKET: 'Models' }, /S3_BUCKET: "Models" is not a valid bucket name/],
    [{ S3_USE_SSL: 'maybe' }, /S3_USE_SSL/],
  ] as const) {
    assert.throws(() => objectStoreConfig(variables), failsWith('SF_CONFIG_INVALID', reason));
  }
});

test('model keys are versioned folders, models/<id>/v<version>/, and parse back', () => {
  assert.deepEqual(modelKeys('btc_graph', 12), {
    prefix: 'models/btc_graph/v12/',
    onnx: 'models/btc_graph/v12/model.onnx',
    metadata: 'models/btc_graph/v12/metadata.json',
  });
  assert.deepEqual(parseModelKey('models/btc_graph/v12/model.onnx'), { modelId: 'btc_graph', version: 12 });
  for (const key of [
    'models/btc_graph/12/model.onnx',
    'models/btc_graph/v0/model.onnx',
    'datasets/x.json',
    'models/../v1/model.onnx',
  ]) {
    assert.throws(() => parseModelKey(key), failsWith('SF_CONTRACT_INVALID', /model_key/));
  }
  assert.throws(() => modelKeys('bad id', 1), failsWith('SF_CONTRACT_INVALID'));
  assert.throws(() => modelKeys('ok', 0), failsWith('SF_CONTRACT_INVALID'));
});
