/**
 * What scripts/deploy.sh deploys, read from the manifests so that a new function, source or
 * Secret needs no change to the script:
 *
 *   node scripts/deploy/plan.ts functions      function folders, one per line
 *   node scripts/deploy/plan.ts secrets        "<secret> <key> <key>…" referenced by func.yaml files
 *   node scripts/deploy/plan.ts sink-files     kafka-sources/ files holding only KafkaSinks
 *   node scripts/deploy/plan.ts source-files   the other kafka-sources/ files
 */
import { loadManifests, parseEnvReference } from './manifests.ts';

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
} else {
  console.error('usage: node scripts/deploy/plan.ts functions|secrets|sink-files|source-files');
  process.exit(2);
}
console.log(lines.join('\n'));
