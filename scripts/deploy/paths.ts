/**
 * Where the deployable pieces live, relative to this file so that no path of one machine is
 * written anywhere: functions/, knative/, kafka-sources/ and the official schemas the
 * manifests are checked against (copied into test/fixtures/schemas).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FUNCTIONS_DIR = join(ROOT, 'functions');
export const KNATIVE_DIR = join(ROOT, 'knative');
export const KAFKA_SOURCES_DIR = join(ROOT, 'kafka-sources');
export const SCHEMAS_DIR = join(ROOT, 'test', 'fixtures', 'schemas');
export const TOPICS_FILE = join(KNATIVE_DIR, 'topics.yaml');
/** Rendered manifests (what func and the KafkaSource controller would create), for inspection. */
export const RENDERED_DIR = join(ROOT, 'build', 'manifests');

/** The folder a function's image is built from (BP_NODE_PROJECT_PATH), written by the bundler. */
export const BUILD_SUBDIR = 'build';

/** Every deployable function: a folder of functions/ with a func.yaml (what `func deploy` takes). */
export function functionNames(): string[] {
  if (!existsSync(FUNCTIONS_DIR)) return [];
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(FUNCTIONS_DIR, d.name, 'func.yaml')))
    .map((d) => d.name)
    .sort();
}

export function functionDir(name: string): string {
  return join(FUNCTIONS_DIR, name);
}

/** A path relative to the project root, for messages and generated files. */
export function relativeToRoot(path: string): string {
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}
