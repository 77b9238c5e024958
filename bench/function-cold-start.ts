/**
 * Cold start of every function as its image runs it: prints one JSON document.
 *
 *   node bench/function-cold-start.ts [--runs 7] [function …]
 *
 * For each function with a func.yaml: its image folder is bundled into an empty temporary
 * folder (scripts/deploy/image-run.ts) and started `runs` times by the image's own start
 * command; cold start = spawning the command to the first 200 from /health/readiness, which
 * includes init() connecting the Kafka producer to a real broker (the one in KAFKA_BROKERS,
 * or one started here) and opening a fresh SQLite store. Baseline, measured in the same run:
 * the same function started the way the local platform starts it (packages/core/src/runtime/main.ts
 * on the TypeScript sources, no bundle). Sizes: index.mjs, the whole image folder without
 * native libraries, and native libraries apart (onnxruntime's for gnn-trainer).
 * Goals: p50 cold start under 300 ms, bundle under 5 MB.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusConnection, createEventProducer, ensureTopics, waitForKafka } from '@streamforge/core/bus';
import { freePort, startLocalBroker, type LocalBroker } from '@streamforge/platform';
import { filesBelow } from '../scripts/deploy/image-contents.ts';
import { buildImage, imageEnv, prepareImageFolder, startImage } from '../scripts/deploy/image-run.ts';
import { loadManifests } from '../scripts/deploy/manifests.ts';
import { ROOT } from '../scripts/deploy/paths.ts';

const GOAL_MS = 300;
const GOAL_BYTES = 5 * 1024 * 1024;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string' } } });
const runs = Number(values.runs ?? 7);

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number): number => Math.round(x * 10) / 10;

let broker: LocalBroker | undefined;
let brokers = process.env.KAFKA_BROKERS;
const scratch = mkdtempSync(join(ROOT, '.cache', 'bench-cold-start-'));
if (!brokers) {
  broker = await startLocalBroker({ dataDir: join(scratch, 'kafka') });
  brokers = broker.brokers;
  await waitForKafka(createBusConnection({ brokers: [brokers] }));
}
// A broker's first idempotent producer pays for its warm-up; a function starting in a running
// cluster does not, so one producer connects before anything is measured.
const warmupConnection = createBusConnection({ brokers: brokers.split(','), clientId: 'bench-warmup' });
await ensureTopics(warmupConnection, {
  prefix: '',
  plan: [{ name: 'bench-warmup', partitions: 1, retentionMs: 3_600_000, purpose: 'producer warm-up' }],
});
const warmup = await createEventProducer(warmupConnection, { topicPrefix: '' });
await warmup.sendRecords('bench-warmup', [{ key: 'warmup', value: '{}' }]);
await warmup.disconnect();

/** The local platform's way: node packages/core/src/runtime/main.ts on the sources (type stripping, no bundle). */
async function unbundledReadyMs(folder: string, env: Record<string, string>): Promise<number> {
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'packages/core/src/runtime/main.ts'),
      join(ROOT, 'functions', folder, 'src/index.ts'),
      '--name',
      folder,
    ],
    {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    },
  );
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${folder} exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${env.FUNC_PORT}/health/readiness`);
        await res.body?.cancel();
        if (res.status === 200) return performance.now() - began;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const m = loadManifests();
const results: Record<string, unknown>[] = [];
try {
  for (const f of m.functions.filter((x) => positionals.length === 0 || positionals.includes(x.folder))) {
    let image: Awaited<ReturnType<typeof prepareImageFolder>>;
    try {
      image = await prepareImageFolder(f.folder);
    } catch (error) {
      results.push({ function: f.folder, error: (error as Error).message, meets_goals: false });
      continue;
    }
    try {
      // The image build's `npm run build` (verify.mjs), which also fills Node's compile cache.
      const built = buildImage(image.buildDir);
      if (built.status !== 0) throw new Error(`${f.folder}: the image build failed:\n${built.output}`);
      const bundled: number[] = [];
      const unbundled: number[] = [];
      for (let i = 0; i < runs; i++) {
        const store = join(scratch, `${f.folder}-${i}`);
        mkdirSync(store, { recursive: true });
        const env = imageEnv(m, f, {
          kafkaBrokers: brokers,
          storeUrl: `sqlite:${join(store, 'a.sqlite')}`,
          port: await freePort(),
          topicPrefix: `bench-${i}-`,
        });
        const started = await startImage(image.buildDir, env);
        bundled.push(started.readyMs);
        await started.stop();
        unbundled.push(
          await unbundledReadyMs(f.folder, {
            ...env,
            STORE_URL: `sqlite:${join(store, 'b.sqlite')}`,
            FUNC_PORT: String(await freePort()),
          }),
        );
      }
      const files = filesBelow(image.buildDir);
      const nativeBytes = image.bundle.vendored.reduce((s, p) => s + p.nativeBytes, 0);
      const folderBytes =
        files
          .filter((file) => !file.startsWith('.node-compile-cache'))
          .reduce((s, file) => s + statSync(join(image.buildDir, file)).size, 0) - nativeBytes;
      const coldP50 = p50(bundled);
      results.push({
        function: f.folder,
        cold_start_ms: {
          p50: round(coldP50),
          min: round(Math.min(...bundled)),
          max: round(Math.max(...bundled)),
          runs: bundled.map(round),
        },
        unbundled_cold_start_ms_p50: round(p50(unbundled)),
        speedup_vs_unbundled: round(p50(unbundled) / coldP50),
        bundle_bytes: image.bundle.bundleBytes,
        image_folder_bytes_without_native: folderBytes,
        native_bytes: nativeBytes,
        compile_cache_bytes: files
          .filter((file) => file.startsWith('.node-compile-cache'))
          .reduce((s, file) => s + statSync(join(image.buildDir, file)).size, 0),
        native_packages: image.bundle.vendored.filter((p) => p.nativeBytes > 0).map((p) => `${p.name}@${p.version}`),
        meets_goals: coldP50 < GOAL_MS && image.bundle.bundleBytes < GOAL_BYTES,
      });
    } finally {
      image.remove();
    }
  }
} finally {
  await broker?.stop();
  rmSync(scratch, { recursive: true, force: true });
}

console.log(
  JSON.stringify(
    {
      benchmark: 'function-cold-start',
      node: process.version,
      cpus: cpus().length,
      runs,
      goals: { cold_start_p50_ms_below: GOAL_MS, bundle_bytes_below: GOAL_BYTES },
      broker: broker ? 'started by the benchmark' : 'KAFKA_BROKERS',
      functions: results,
      all_meet_goals: results.every((r) => r.meets_goals === true),
    },
    null,
    2,
  ),
);
