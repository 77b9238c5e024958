/**
 * Every manifest of the project as plain objects, with the file each came from: the
 * func.yaml of every function, the documents in knative/ and kafka-sources/ (and the Secret
 * placeholders in knative/secrets.yaml.example), and the loader-ws Job template when present.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { KAFKA_SOURCES_DIR, KNATIVE_DIR, functionDir, functionNames, relativeToRoot } from './paths.ts';

// biome-ignore lint/suspicious/noExplicitAny: a YAML manifest of any kind; each check reads the fields it knows
export type Doc = Record<string, any>;

export interface ManifestDoc {
  /** Path relative to the project root. */
  file: string;
  doc: Doc;
}

export interface FunctionManifest {
  /** Folder name under functions/. */
  folder: string;
  file: string;
  funcYaml: Doc;
}

export interface Manifests {
  functions: FunctionManifest[];
  /** Documents of knative/*.yaml (not the .example, not subfolders). */
  knative: ManifestDoc[];
  /** Documents of kafka-sources/*.yaml. */
  kafkaSources: ManifestDoc[];
  /** The Secret placeholders (knative/secrets.yaml.example). */
  secretExamples: ManifestDoc[];
  /** knative/loader-ws-job.yaml, when it exists. */
  jobTemplate: ManifestDoc | undefined;
  /** Why knative/loader-ws-job.yaml could not be read, when it could not (reported by the schema check). */
  jobTemplateError: string | undefined;
}

export const JOB_TEMPLATE_FILE = 'loader-ws-job.yaml';
export const SECRETS_EXAMPLE_FILE = 'secrets.yaml.example';

export function readYamlDocuments(path: string): Doc[] {
  const docs: Doc[] = [];
  // Merge keys (`<<: *anchor`) resolved as kubectl resolves them, so a manifest reads here as it applies.
  for (const document of parseAllDocuments(readFileSync(path, 'utf8'), { merge: true })) {
    if (document.errors.length > 0) throw new Error(`${relativeToRoot(path)}: ${document.errors[0]?.message}`);
    const doc = document.toJS() as Doc | null;
    if (doc) docs.push(doc);
  }
  return docs;
}

function documentsOf(dir: string, accept: (file: string) => boolean): ManifestDoc[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(accept)
    .sort()
    .flatMap((f) => readYamlDocuments(join(dir, f)).map((doc) => ({ file: relativeToRoot(join(dir, f)), doc })));
}

export function loadManifests(): Manifests {
  const functions = functionNames().map((folder) => {
    const file = join(functionDir(folder), 'func.yaml');
    return { folder, file: relativeToRoot(file), funcYaml: parseYaml(readFileSync(file, 'utf8')) as Doc };
  });
  // The Job template is another helper's file in the making: a broken one is a finding, not a crash.
  let jobTemplate: ManifestDoc | undefined;
  let jobTemplateError: string | undefined;
  try {
    jobTemplate = documentsOf(KNATIVE_DIR, (f) => f === JOB_TEMPLATE_FILE)[0];
  } catch (error) {
    jobTemplateError = (error as Error).message;
  }
  return {
    functions,
    knative: documentsOf(KNATIVE_DIR, (f) => /\.ya?ml$/.test(f) && f !== JOB_TEMPLATE_FILE),
    kafkaSources: documentsOf(KAFKA_SOURCES_DIR, (f) => /\.ya?ml$/.test(f)),
    secretExamples: documentsOf(KNATIVE_DIR, (f) => f === SECRETS_EXAMPLE_FILE),
    jobTemplate,
    jobTemplateError,
  };
}

export function ofKind(docs: ManifestDoc[], kind: string): ManifestDoc[] {
  return docs.filter((d) => d.doc.kind === kind);
}

/** `file Kind/name` for messages. */
export function where(d: ManifestDoc): string {
  return `${d.file} ${d.doc.kind}/${d.doc.metadata?.name ?? d.doc.metadata?.generateName ?? '(no name)'}`;
}

/** `{{ configMap:name:key }}`, `{{ secret:name:key }}` (key optional: the whole map), `{{ env:NAME }}` (knative/func docs/reference/func_yaml.md). */
export interface EnvReference {
  kind: 'configMap' | 'secret' | 'env';
  name: string;
  key: string | undefined;
}

const REFERENCE = /^\{\{\s*(env|configMap|secret):([^:}\s]+)(?::([^}\s]+))?\s*\}\}$/;

export function parseEnvReference(value: string): EnvReference | undefined {
  const m = REFERENCE.exec(value.trim());
  if (!m) return undefined;
  return { kind: m[1] as EnvReference['kind'], name: m[2] as string, key: m[3] };
}

/** Data keys of a ConfigMap or Secret (placeholder) document. */
export function dataKeys(doc: Doc): string[] {
  return [...Object.keys(doc.data ?? {}), ...Object.keys(doc.stringData ?? {})];
}
