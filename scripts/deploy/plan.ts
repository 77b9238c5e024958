/**
 * What scripts/deploy.sh deploys, read from the manifests so that a new function, source or
 * Secret needs no change to the script:
 *
 *   node scripts/deploy/plan.ts functions      function folders, one per line
 *   node scripts/deploy/plan.ts secrets        "<secret> <key> <key>…" referenced by func.yaml files
 *   node scripts/deploy/plan.ts sink-files     kafka-sources/ files holding only KafkaSinks
 *   node scripts/deploy/plan.ts source-files   the other kafka-sources/ files
 *   node scripts/deploy/plan.ts job-images REGISTRY
 *       "<name> <ConfigMap key> <builder> <image folder> <image reference>" per Job image
 *   node scripts/deploy/plan.ts readers KEY    functions whose func.yaml reads ConfigMap key KEY
 */
import { JOB_IMAGES, PACK_BUILDER, imageReference, jobBuildDir } from './job-images.ts';
import { loadManifests, parseEnvReference } from './manifests.ts';
import { relativeToRoot } from './paths.ts';

const m = loadManifests();
const what = process.argv[2];
const lines: string[] = [];
if (what === 'functions') {
  lines.push(...m.functions.map((f) => f.folder));
} else if (what === 'secrets') {
  const keys = new Map<string, Set<string>>();
  for (const f of m.functions) {
    for (const e of (f.funcYaml.run?.envs ?? []) as Array<{ value?: string }>) {
      const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
      if (ref?.kind !== 'secret') continue;
      const set = keys.get(ref.name) ?? new Set<string>();
      if (ref.key !== undefined) set.add(ref.key);
      keys.set(ref.name, set);
    }
  }
  for (const [name, set] of [...keys].sort()) lines.push([name, ...[...set].sort()].join(' '));
} else if (what === 'sink-files' || what === 'source-files') {
  const files = [...new Set(m.kafkaSources.map((d) => d.file))];
  const onlySinks = (file: string) =>
    m.kafkaSources.filter((d) => d.file === file).every((d) => d.doc.kind === 'KafkaSink');
  lines.push(...files.filter((f) => (what === 'sink-files' ? onlySinks(f) : !onlySinks(f))));
} else if (what === 'job-images') {
  const registry = process.argv[3] ?? '';
  for (const job of JOB_IMAGES) {
    const dir = jobBuildDir(job);
    lines.push(
      [job.name, job.configKey, PACK_BUILDER, relativeToRoot(dir), imageReference(registry, job, dir)].join(' '),
    );
  }
} else if (what === 'readers') {
  const key = process.argv[3];
  for (const f of m.functions) {
    const envs = (f.funcYaml.run?.envs ?? []) as Array<{ value?: string }>;
    const reads = envs.some((e) => {
      const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
      return ref?.kind === 'configMap' && ref.key === key;
    });
    if (reads) lines.push(f.folder);
  }
} else {
  console.error(
    'usage: node scripts/deploy/plan.ts functions|secrets|sink-files|source-files|job-images REGISTRY|readers KEY',
  );
  process.exit(2);
}
console.log(lines.join('\n'));
