/**
 * `make topics`: writes knative/topics.yaml (Strimzi KafkaTopics) from the topic plan.
 *
 *   node scripts/generate-topics.ts            regenerate the file
 *   node scripts/generate-topics.ts --check    exit 1 if the file differs from the plan (CI)
 */
import { TOPICS_FILE } from './deploy/paths.ts';
import { renderTopicsYaml } from './deploy/topic-manifests.ts';
import { generateOrCheck } from './generated-file.ts';

generateOrCheck({ file: TOPICS_FILE, source: 'the topic plan', makeTarget: 'topics', render: renderTopicsYaml });
