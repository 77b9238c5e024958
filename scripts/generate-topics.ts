/**
 * `make topics`: writes knative/topics.yaml (Strimzi KafkaTopics) from the topic plan.
 *
 *   node scripts/generate-topics.ts            regenerate the file
 *   node scripts/generate-topics.ts --check    exit 1 if the file differs from the plan (CI)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TOPICS_FILE, relativeToRoot } from './deploy/paths.ts';
import { renderTopicsYaml } from './deploy/topic-manifests.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const expected = renderTopicsYaml();
const current = existsSync(TOPICS_FILE) ? readFileSync(TOPICS_FILE, 'utf8') : undefined;
if (values.check) {
  if (current !== expected) {
    console.error(
      `${relativeToRoot(TOPICS_FILE)} is stale: the topic plan changed. Run \`make topics\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${relativeToRoot(TOPICS_FILE)} matches the topic plan`);
} else if (current === expected) {
  console.log(`${relativeToRoot(TOPICS_FILE)} is up to date`);
} else {
  writeFileSync(TOPICS_FILE, expected);
  console.log(`wrote ${relativeToRoot(TOPICS_FILE)}`);
}
