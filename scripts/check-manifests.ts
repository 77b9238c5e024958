/**
 * `make manifests`: renders and checks everything `make deploy` would apply, without a
 * cluster (scripts/deploy/checks.ts; the same checks as test/deploy). Writes what the
 * cluster would derive (the Knative Services func renders, the ScaledObjects the KafkaSource
 * controller creates) to build/manifests/ for inspection, prints one JSON report, and exits
 * 1 when any check finds a problem.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFunction } from './deploy/bundle.ts';
import * as checks from './deploy/checks.ts';
import { JOB_IMAGES } from './deploy/job-images.ts';
import { loadManifests } from './deploy/manifests.ts';
import { RENDERED_DIR, TOPICS_FILE, relativeToRoot } from './deploy/paths.ts';
import { renderAll, toYamlStream } from './deploy/render.ts';
import { renderTopicsYaml } from './deploy/topic-manifests.ts';

const m = loadManifests();
const results: Record<string, string[]> = {
  schemas: checks.schemaProblems(m),
  'func.yaml rules': checks.funcYamlProblems(m),
  labels: checks.labelProblems(m),
  'KafkaSource and KafkaSink rules': checks.kafkaSourceProblems(m),
  sinks: checks.sinkProblems(m),
  'PingSource rules': checks.pingSourceProblems(m),
  topics: [
    ...checks.topicProblems(m),
    ...(existsSync(TOPICS_FILE) && readFileSync(TOPICS_FILE, 'utf8') === renderTopicsYaml()
      ? []
      : [`${relativeToRoot(TOPICS_FILE)} is stale: run \`make topics\``]),
  ],
  references: checks.referenceProblems(m),
  rbac: checks.rbacProblems(m),
  dashboard: await checks.dashboardProblems(),
  environment: [],
  images: [],
};
const environment: Record<string, { reads: string[]; set_by_func_yaml: string[] }> = {};
for (const f of m.functions) {
  try {
    const analysed = await bundleFunction(f.folder, { write: false });
    const report = await checks.envProblems(m, f, analysed.inputs);
    environment[f.folder] = { reads: report.reads, set_by_func_yaml: report.setByManifest };
    results.environment!.push(...report.problems);
  } catch (error) {
    results.environment!.push(`${f.folder}: cannot bundle: ${(error as Error).message.split('\n')[0]}`);
  }
  results.images!.push(...checks.imageProblems(f.folder));
}
for (const job of JOB_IMAGES) results.images!.push(...checks.jobImageProblems(m, job));

const rendered = renderAll(m.functions, m.kafkaSources);
mkdirSync(RENDERED_DIR, { recursive: true });
const header =
  '# Rendered by scripts/check-manifests.ts for inspection; not applied (func and the KafkaSource controller create these).';
writeFileSync(join(RENDERED_DIR, 'knative-services.yaml'), toYamlStream(rendered.services, header));
writeFileSync(join(RENDERED_DIR, 'scaled-objects.yaml'), toYamlStream(rendered.scaledObjects, header));

const problems = Object.values(results).flat();
console.log(
  JSON.stringify(
    {
      ok: problems.length === 0,
      functions: m.functions.map((f) => f.folder),
      kafka_sources: m.kafkaSources.filter((d) => d.doc.kind === 'KafkaSource').map((d) => d.doc.metadata.name),
      job_template: m.jobTemplate ? m.jobTemplate.file : null,
      rendered: [
        join(relativeToRoot(RENDERED_DIR), 'knative-services.yaml'),
        join(relativeToRoot(RENDERED_DIR), 'scaled-objects.yaml'),
      ],
      environment,
      problems: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v])),
    },
    null,
    2,
  ),
);
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
