/**
 * What `func deploy --path functions/<name>` builds: the function folder minus .funcignore,
 * whose build/ (the bundle) the Paketo Node buildpacks install, build (`npm run build`) and
 * start (`npm start`). Here each function's folder is bundled and copied alone to an empty
 * temporary folder outside the project, built and started the same way, with a real broker
 * (the test run's KAFKA_BROKERS) and a temporary SQLite store, and must answer
 * /health/readiness: init() connects to Kafka and opens the store, so readiness means the
 * function can serve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '@streamforge/platform';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeCall,
  kubeconfigFor,
  kubernetesSkipReason,
  serviceAccountToken,
  setJobCondition,
  testBrokers,
  testKubernetes,
  uniqueName,
  waitFor,
} from '@streamforge/testing';
import { COMPILE_CACHE_DIR, bundleEntry, projectFilesReadAtRunTime } from '../../scripts/deploy/bundle.ts';
import { imageProblems } from '../../scripts/deploy/checks.ts';
import { isExcluded, parseIgnore, readFuncignore } from '../../scripts/deploy/image-contents.ts';
import {
  buildImage,
  imageEnv,
  prepareImageFolder,
  startImage,
  type ImageFolder,
} from '../../scripts/deploy/image-run.ts';
import { loadManifests } from '../../scripts/deploy/manifests.ts';
import { ROOT, functionDir } from '../../scripts/deploy/paths.ts';
import { NATIVE_PACKAGES, vendorPackages } from '../../scripts/deploy/vendor.ts';

const m = loadManifests();
const images = new Map<string, Promise<ImageFolder>>();
/** One image folder per function for the whole file (bundling is the slow part). */
function imageOf(folder: string): Promise<ImageFolder> {
  if (!images.has(folder)) images.set(folder, prepareImageFolder(folder));
  return images.get(folder)!;
}
test.after(async () => {
  for (const image of images.values()) (await image).remove();
});

test('a temporary folder has no node_modules above it, so an image folder there resolves nothing from the project', () => {
  for (let dir = tmpdir(); ; dir = dirname(dir)) {
    assert.equal(existsSync(join(dir, 'node_modules')), false, `${dir}/node_modules exists`);
    if (dirname(dir) === dir) break;
  }
});

test('each image folder has the bundle with the workspace packages inlined and only native packages beside it', async () => {
  for (const f of m.functions) {
    const image = await imageOf(f.folder);
    assert.deepEqual(imageProblems(f.folder, image.buildDir), [], f.folder);
    assert.ok(
      image.bundle.inputs.some((i) => i.startsWith('packages/core/src/runtime/')),
      `${f.folder}: the runtime is inlined`,
    );
    assert.ok(
      !image.files.some((file) => file.startsWith('src/') || file.startsWith('node_modules/')),
      `${f.folder}: .funcignore keeps sources and node_modules out`,
    );
    assert.ok(image.files.includes('func.yaml'), `${f.folder}: func.yaml goes with the folder`);
    assert.equal(
      readFileSync(join(image.buildDir, 'index.mjs'), 'utf8').includes('import.meta.main'),
      false,
      `${f.folder}: no inlined CLI thinks it is the main module`,
    );
    for (const asset of image.bundle.assets)
      assert.ok(existsSync(join(image.buildDir, asset)), `${f.folder}: ${asset}, read at run time, is in the image`);
    // Vendored native packages sit in build/node_modules: .funcignore drops only the folder's own node_modules.
    assert.equal(
      isExcluded(readFuncignore(functionDir(f.folder)), 'build/node_modules/onnxruntime-node/package.json', false),
      false,
      `${f.folder}: .funcignore keeps vendored packages`,
    );
    const pkg = JSON.parse(readFileSync(join(image.buildDir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(
        (NATIVE_PACKAGES as readonly string[]).includes(dep),
        `${f.folder}: ${dep} is the only kind of package left outside the bundle`,
      );
    for (const p of image.bundle.vendored.filter((v) => v.nativeBytes > 0)) {
      assert.ok(existsSync(join(image.buildDir, p.path, 'bin/napi-v6/linux/x64')), `${p.name} keeps linux-x64`);
      assert.equal(existsSync(join(image.buildDir, p.path, 'bin/napi-v6/darwin')), false, `${p.name} drops darwin`);
    }
  }
});

test('onnxruntime-node is vendored with its dependencies and only its linux-x64 binaries, and loads from there alone', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamforge-vendor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const vendored = vendorPackages(['onnxruntime-node'], functionDir(m.functions[0]!.folder), dir);
  const ort = vendored.find((p) => p.name === 'onnxruntime-node')!;
  assert.ok(
    vendored.some((p) => p.name === 'onnxruntime-common'),
    'its runtime dependency comes along',
  );
  assert.ok(
    ort.nativeBytes > 0 && ort.nativeBytes < 80 * 1024 * 1024,
    `linux-x64 only: ${ort.nativeBytes} bytes of native code`,
  );
  assert.deepEqual(readdirSync(join(dir, 'node_modules/onnxruntime-node/bin/napi-v6')), ['linux']);
  assert.deepEqual(readdirSync(join(dir, 'node_modules/onnxruntime-node/bin/napi-v6/linux')), ['x64']);
  const load = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const ort = await import('onnxruntime-node'); console.log(typeof ort.InferenceSession.create)",
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(load.stdout.trim(), 'function', load.stderr);
});

test('a project file the code reads by a path relative to itself travels into the image, where the code finds it', async (t) => {
  // A module that reads a manifest at the project root and a data file next to itself, as
  // the Job launcher reads knative/loader-ws-job.yaml.
  const source = mkdtempSync(join(ROOT, '.cache', 'image-asset-'));
  const image = mkdtempSync(join(tmpdir(), 'streamforge-image-asset-'));
  t.after(() => {
    rmSync(source, { recursive: true, force: true });
    rmSync(image, { recursive: true, force: true });
  });
  writeFileSync(join(source, 'limits.json'), '{"pages":7}');
  writeFileSync(
    join(source, 'reader.ts'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { fileURLToPath } from 'node:url';",
      "export const config = readFileSync(new URL('../../knative/config.yaml', import.meta.url), 'utf8');",
      "export const limits = JSON.parse(readFileSync(new URL('./limits.json', import.meta.url), 'utf8'));",
      "export const root = fileURLToPath(new URL('../../', import.meta.url));",
    ].join('\n'),
  );
  const result = await bundleEntry(
    "import { config, limits, root } from './reader.ts';\nconsole.log(JSON.stringify({ root, configMap: config.includes('streamforge-config'), pages: limits.pages }));",
    source,
    join(image, 'build', 'index.mjs'),
  );
  const inputs = Object.keys(result.metafile.inputs).filter((i) => existsSync(join(ROOT, i)));
  const assets = projectFilesReadAtRunTime(inputs);
  const rel = source.slice(ROOT.length + 1);
  assert.deepEqual(assets, [`${rel}/limits.json`, 'knative/config.yaml']);
  for (const asset of assets) {
    mkdirSync(dirname(join(image, 'build', asset)), { recursive: true });
    copyFileSync(join(ROOT, asset), join(image, 'build', asset));
  }
  const run = spawnSync(process.execPath, ['index.mjs'], { cwd: join(image, 'build'), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { root: `${join(image, 'build')}/`, configMap: true, pages: 7 });
});

test("the image build's `npm run build` checks the folder, loads every module and fills the compile cache", async () => {
  for (const f of m.functions) {
    const image = await imageOf(f.folder);
    const built = buildImage(image.buildDir);
    assert.equal(built.status, 0, `${f.folder}:\n${built.output}`);
    assert.match(built.output, new RegExp(`"function":"${f.funcYaml.name}"`));
    assert.ok(existsSync(join(image.buildDir, COMPILE_CACHE_DIR)), `${f.folder}: ${COMPILE_CACHE_DIR} written`);
  }
});

/**
 * The test run's Kubernetes API server as the manager's pod sees it: knative/rbac.yaml in a
 * namespace of its own, and a kubeconfig file with the queue-manager ServiceAccount's token.
 */
async function kubernetesFor(dir: string, folder: string): Promise<{ namespace: string; kubeconfig: string }> {
  const cluster = testKubernetes();
  const namespace = uniqueName('sf-image');
  await createNamespace(cluster, namespace);
  const rbac = m.knative.filter((d) => d.file === 'knative/rbac.yaml');
  assert.deepEqual(
    await applyAll(
      cluster,
      rbac.map((d) => ({ file: d.file, doc: inNamespace(d.doc, namespace) })),
    ),
    [],
  );
  const token = await serviceAccountToken(cluster, namespace, 'queue-manager');
  const kubeconfig = join(dir, `${folder}.kubeconfig`);
  writeFileSync(kubeconfig, kubeconfigFor({ ...cluster, token }, 'queue-manager'));
  return { namespace, kubeconfig };
}

/**
 * The manager in its image takes a Job's change as the ApiServerSource sends it: a loader-ws
 * Job failed in its namespace (made and failed here, as no controller runs), read back from
 * the API and POSTed as the update event, is one it reports.
 */
async function jobFailureSeen(namespace: string, output: () => string, url: string): Promise<void> {
  const cluster = testKubernetes();
  const name = uniqueName('loader-ws-image');
  await kubeCall(cluster, {
    method: 'POST',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        labels: { 'app.kubernetes.io/name': 'loader-ws' },
        annotations: { 'streamforge.dev/queue-id': name },
      },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'loader-ws', image: 'registry.example/x' }] },
        },
      },
    },
  });
  await setJobCondition(cluster, namespace, name, { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'test' });
  const job = await kubeCall(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` });
  const answer = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': uniqueName('job-event'),
      'ce-type': 'dev.knative.apiserver.resource.update',
      'ce-source': cluster.url,
      'ce-subject': `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(job.body),
  });
  assert.ok(answer.ok, `the Job event: ${answer.status} ${await answer.text()}`);
  await waitFor(`the manager reports Job ${name} failed`, () =>
    output().includes(`loader-ws Job ${name} failed: BackoffLimitExceeded: test`),
  );
}

test('each image folder, copied alone to an empty folder, starts with its npm start command and answers /health/readiness', async (t) => {
  if (process.env.STREAMFORGE_TEST_NO_KAFKA === '1') {
    t.skip('needs a Kafka broker: init() connects to it (run without --no-kafka)');
    return;
  }
  const noKubernetes = kubernetesSkipReason();
  const scratch = mkdtempSync(join(tmpdir(), 'streamforge-image-store-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  for (const f of m.functions) {
    const image = await imageOf(f.folder);
    const env = imageEnv(m, f, {
      kafkaBrokers: testBrokers().join(','),
      storeUrl: `sqlite:${join(scratch, `${f.folder}.sqlite`)}`,
      port: await freePort(),
      topicPrefix: `${uniqueName('image')}-`,
    });
    // The manager's Job launcher talks to a Kubernetes API (KUBECONFIG here, its service account in a pod).
    if (env.JOB_LAUNCHER === 'kubernetes' && noKubernetes) {
      t.diagnostic(`${f.folder} not started: it needs the Kubernetes API server (${noKubernetes})`);
      continue;
    }
    const kubernetes = env.JOB_LAUNCHER === 'kubernetes' ? await kubernetesFor(scratch, f.folder) : undefined;
    const started = await startImage(image.buildDir, {
      ...env,
      ...(kubernetes ? { KUBECONFIG: kubernetes.kubeconfig, JOB_NAMESPACE: kubernetes.namespace } : {}),
    });
    try {
      const liveness = await fetch(`${started.url}/health/liveness`);
      assert.equal(liveness.status, 200, `${f.folder} liveness`);
      const metrics = await (await fetch(`${started.url}/metrics`)).text();
      assert.match(metrics, /# HELP streamforge_events_handled_total/, `${f.folder} exports the dashboard's metrics`);
      assert.match(metrics, new RegExp(`service="${f.funcYaml.name}"`), `${f.folder} labels its metrics with its name`);
      if (kubernetes) await jobFailureSeen(kubernetes.namespace, started.output, started.url);
    } finally {
      const code = await started.stop();
      assert.equal(code, 0, `${f.folder} drains and exits 0 on SIGTERM:\n${started.output()}`);
    }
  }
});

test('.funcignore patterns read as gitignore does: anchored folders, names at any depth, globs, negation', () => {
  const rules = parseIgnore('# comment\n/src/\nnode_modules\n*.test.ts\n!keep.test.ts\ndocs/*.md\n');
  const excluded = (path: string, dir = false) => isExcluded(rules, path, dir);
  assert.equal(excluded('src', true), true);
  assert.equal(excluded('src/index.ts'), true);
  assert.equal(excluded('build/src/index.ts'), false, 'an anchored folder is only the top one');
  assert.equal(excluded('build/node_modules/x/index.js'), true, 'a name without a slash matches at any depth');
  assert.equal(excluded('test/a.test.ts'), true);
  assert.equal(excluded('test/keep.test.ts'), false, 'a later ! pattern brings a file back');
  assert.equal(excluded('docs/a.md'), true);
  assert.equal(excluded('docs/deep/a.md'), false, 'a single * does not cross folders');
});
