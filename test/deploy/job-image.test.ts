/**
 * The loader-ws image, which `make deploy` builds with pack (scripts/deploy/job-images.ts).
 * Neither Docker nor pack runs here, so what can be checked without them is: the image folder
 * `make bundles` writes (the bundle of src/job.ts, the project descriptor pack reads), its
 * build step and start command run as the buildpacks run them, the user the Job template runs
 * it as, the reference reaching the Job through the ConfigMap, and `make deploy` refusing to go
 * on, with the reason, without pack or a container engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadJobTemplate, renderJob } from '@streamforge/core/jobs';
import { jobImageProblems } from '../../scripts/deploy/checks.ts';
import { buildImage } from '../../scripts/deploy/image-run.ts';
import {
  PACK_BUILDER,
  PROJECT_DESCRIPTOR,
  RUN_IMAGE_USER,
  bundleJob,
  imageReference,
  jobBuildDir,
  jobImage,
  projectDescriptor,
} from '../../scripts/deploy/job-images.ts';
import { loadManifests, ofKind, type Doc } from '../../scripts/deploy/manifests.ts';
import { ROOT, relativeToRoot } from '../../scripts/deploy/paths.ts';

const m = loadManifests();
const job = jobImage('loader-ws');
const buildDir = jobBuildDir(job);
// What `make bundles` does for this image (scripts/bundle-functions.ts calls the same function).
const bundled = await bundleJob(job);
const imagePath = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;

function containerOf(doc: Doc): Doc {
  return (doc.spec.template.spec.containers as Doc[]).find((c) => c.name === job.container)!;
}

test('make bundles writes the loader-ws image folder: the bundle of src/job.ts and the project descriptor pack reads', () => {
  assert.equal(relativeToRoot(bundled.outDir), 'functions/loader-ws/build');
  assert.ok(bundled.inputs.includes('functions/loader-ws/src/job.ts'), 'the Job program is the bundle');
  assert.ok(
    bundled.inputs.some((i) => i.startsWith('packages/core/src/bus/')),
    'the workspace packages are inlined',
  );
  assert.deepEqual(jobImageProblems(m, job), []);
  const descriptor = readFileSync(join(buildDir, PROJECT_DESCRIPTOR), 'utf8');
  assert.equal(descriptor, projectDescriptor(job));
  // The functions' builder and Node (func.yaml build.builderImages.pack, BP_NODE_VERSION).
  assert.match(descriptor, new RegExp(`^builder = "${PACK_BUILDER.replaceAll('.', '\\.')}"$`, 'm'));
  for (const f of m.functions) {
    assert.equal(f.funcYaml.build.builderImages.pack, PACK_BUILDER, f.file);
    const node = (f.funcYaml.build.buildEnvs as Array<{ name: string; value: string }>).find(
      (e) => e.name === 'BP_NODE_VERSION',
    );
    assert.match(descriptor, new RegExp(`name = "BP_NODE_VERSION"\\nvalue = "${node?.value}"`), f.file);
  }
});

test("the image's build step loads the bundle, and its start command runs the Job's program with its exit code", () => {
  const build = buildImage(buildDir);
  assert.equal(build.status, 0, build.output);
  assert.match(build.output, /"job":"loader-ws"/);
  const pkg = JSON.parse(readFileSync(join(buildDir, 'package.json'), 'utf8')) as { scripts: { start: string } };
  // npm-start's launch process runs the start script under sh, which waits for it and exits
  // with its status. Without the Job's environment the program refuses its configuration
  // with exit 2, the code the Job template's podFailurePolicy turns into FailJob.
  const run = spawnSync('sh', ['-c', `${pkg.scripts.start} &\npid=$!\nwait $pid`], {
    cwd: buildDir,
    env: { PATH: imagePath },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 2, `${run.stdout}${run.stderr}`);
  assert.match(`${run.stdout}${run.stderr}`, /loader-ws cannot start: bad configuration/);
  const failJob = m.jobTemplate!.doc.spec.podFailurePolicy.rules.find((r: Doc) => r.action === 'FailJob');
  assert.deepEqual(failJob.onExitCodes.values, [2]);
});

test("the Job template runs the image as the run image's non-root user, by the image's own process", () => {
  const container = containerOf(m.jobTemplate!.doc);
  assert.notEqual(RUN_IMAGE_USER.uid, 0);
  assert.equal(container.securityContext.runAsNonRoot, true);
  assert.equal(container.securityContext.runAsUser, RUN_IMAGE_USER.uid);
  assert.equal(container.securityContext.runAsGroup, RUN_IMAGE_USER.gid);
  assert.equal(container.command, undefined);

  const planted = (change: (template: Doc) => void): string[] => {
    const copy = structuredClone(m);
    change(copy.jobTemplate!.doc);
    return jobImageProblems(copy, job);
  };
  assert.match(
    planted((t) => {
      containerOf(t).securityContext.runAsUser = 0;
    }).join('\n'),
    /must run as the image's user, runAsUser 1002 and runAsGroup 1000 \(the builder's run image\), not 0:1000/,
  );
  assert.match(
    planted((t) => {
      delete containerOf(t).securityContext.runAsNonRoot;
    }).join('\n'),
    /must set runAsNonRoot: true/,
  );
  assert.match(
    planted((t) => {
      containerOf(t).command = ['node', 'index.mjs'];
    }).join('\n'),
    /sets command or args/,
  );
});

test('the Job gets the image make deploy built, through the ConfigMap the manager reads', () => {
  const config = ofKind(m.knative, 'ConfigMap').find((d) => d.doc.metadata.name === 'streamforge-config')!;
  assert.ok(job.configKey in config.doc.data);
  const manager = m.functions.find((f) => f.folder === 'queue-manager')!;
  assert.ok(
    (manager.funcYaml.run.envs as Array<{ name: string; value: string }>).some(
      (e) => e.name === job.configKey && e.value === `{{ configMap:streamforge-config:${job.configKey} }}`,
    ),
  );
  const plan = spawnSync(process.execPath, ['scripts/deploy/plan.ts', 'job-images', 'registry.example/team'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(plan.status, 0, plan.stderr);
  const reference = imageReference('registry.example/team', job);
  assert.match(reference, /^registry\.example\/team\/loader-ws:0\.1\.0-[0-9a-f]{12}$/);
  assert.equal(plan.stdout.trim(), `loader-ws ${job.configKey} ${PACK_BUILDER} functions/loader-ws/build ${reference}`);
  // What the manager's launcher does with that value (LOADER_WS_IMAGE → the image option).
  const rendered = renderJob(
    loadJobTemplate(),
    {
      queue_id: 'q1',
      type: 'ws_agg_trades',
      market: 'spot',
      symbols: ['BTCUSDT'],
      collection_name: 'btc',
      kafka_topic: 'data-agg-trades',
      telemetry_id: 't1',
    },
    { image: reference },
  );
  assert.equal(containerOf(rendered as unknown as Doc).image, reference);
  assert.equal(containerOf(rendered as unknown as Doc).securityContext.runAsUser, RUN_IMAGE_USER.uid);

  const unread = structuredClone(m);
  const envs = unread.functions.find((f) => f.folder === 'queue-manager')!.funcYaml.run.envs as Array<{
    name: string;
  }>;
  envs.splice(
    envs.findIndex((e) => e.name === job.configKey),
    1,
  );
  assert.match(jobImageProblems(unread, job).join('\n'), /no func\.yaml sets LOADER_WS_IMAGE from the ConfigMap/);
});

test('make deploy stops before touching the cluster, saying what is missing: pack, then Docker or Podman', () => {
  const bin = mkdtempSync(join(tmpdir(), 'streamforge-deploy-bin-'));
  try {
    // Only these commands: kubectl and func as stand-ins that succeed, the rest of this machine's.
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub(
      'kubectl',
      'if [ "$1 $2" = "config current-context" ]; then echo test-cluster; exit 0; fi\necho "kubectl $*" >> "$(dirname "$0")/kubectl.log"',
    );
    stub('func', 'exit 0');
    for (const tool of ['bash', 'dirname', 'grep', 'tr', 'cat', 'sh']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, join(bin, tool));
    }
    symlinkSync(process.execPath, join(bin, 'node'));
    const deploy = (env: Record<string, string> = {}) =>
      spawnSync(join(bin, 'bash'), ['scripts/deploy.sh'], {
        cwd: ROOT,
        env: { PATH: bin, REGISTRY: 'registry.example/team', ...env },
        encoding: 'utf8',
      });
    const noPack = deploy();
    assert.equal(noPack.status, 1, noPack.stderr);
    assert.match(noPack.stderr, /make deploy: pack is not on PATH\. Install the Cloud Native Buildpacks CLI/);
    stub('pack', 'exit 0');
    const noEngine = deploy();
    assert.equal(noEngine.status, 1, noEngine.stderr);
    assert.match(noEngine.stderr, /make deploy: neither docker nor podman is on PATH/);
    // Nothing was applied before either refusal.
    assert.throws(() => readFileSync(join(bin, 'kubectl.log')));
    const noRegistry = deploy({ REGISTRY: '' });
    assert.equal(noRegistry.status, 1);
    assert.match(noRegistry.stderr, /set REGISTRY/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
