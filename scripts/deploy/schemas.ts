/**
 * Validators built from the official schemas in test/fixtures/schemas (copied unchanged
 * from knative/func, eventing-kafka-broker, knative/serving, KEDA and Kubernetes). What the
 * API server would check at `kubectl apply` is checked here without a cluster.
 *
 * The files stay unchanged; in memory, the draft-04 markers of the func schema are dropped
 * (ajv speaks draft-07, and the func schema uses no draft-04-only keyword), and the CRDs get
 * an overlay: `additionalProperties: false` on every object that lists its properties (the
 * CRDs accept unknown fields, so `initalOffset: earliest` would pass silently; the API server
 * prunes unknown fields instead of rejecting them) and the enums the webhook enforces
 * (`initialOffset`, `ordering`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { SCHEMAS_DIR } from './paths.ts';

type Schema = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const SCHEMA_FILES = {
  funcYaml: 'func_yaml-schema.json',
  kafkaSource: 'kafkasource-crd.yaml',
  knativeService: 'knative-serving-service-crd.yaml',
  job: 'job-batch-v1.json',
  scaledObject: 'keda-scaledobject-crd.yaml',
} as const;

export type SchemaKind = keyof typeof SCHEMA_FILES;

function mapDeep(value: unknown, fn: (node: Schema) => Schema): unknown {
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  if (value === null || typeof value !== 'object') return value;
  const out: Schema = {};
  for (const [k, v] of Object.entries(value as Schema)) out[k] = mapDeep(v, fn);
  return fn(out);
}

function withoutSchemaMarkers(schema: unknown): Schema {
  return mapDeep(schema, (node) => {
    const { $schema: _ignored, ...rest } = node;
    return rest;
  }) as Schema;
}

/** Every object schema that lists its properties rejects others, unless it says it keeps unknown fields. */
export function closeObjects(schema: unknown): Schema {
  return mapDeep(schema, (node) => {
    const isObject = node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
    if (
      isObject &&
      node.properties !== undefined &&
      node.additionalProperties === undefined &&
      node['x-kubernetes-preserve-unknown-fields'] !== true
    ) {
      return { ...node, additionalProperties: false };
    }
    return node;
  }) as Schema;
}

/** `spec.versions[name].schema.openAPIV3Schema` of a CRD file. */
export function crdVersionSchema(file: string, version: string): Schema {
  const docs = parseAllDocuments(readFileSync(join(SCHEMAS_DIR, file), 'utf8')).map((d) => d.toJS() as Schema);
  const crd = docs.find((d) => d.kind === 'CustomResourceDefinition');
  const versions = ((crd?.spec as Schema | undefined)?.versions ?? []) as Array<{
    name: string;
    schema?: { openAPIV3Schema?: Schema };
  }>;
  const found = versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
  if (!found) throw new Error(`${file} has no version ${version}`);
  return found;
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/**
 * ObjectMeta as a manifest writes it (the API server's own rules: DNS names, string-valued
 * labels and annotations, so an unquoted `min-scale: 0` fails here as it would at apply).
 */
export const OBJECT_META: Schema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253 },
    generateName: { type: 'string' },
    namespace: { type: 'string', pattern: DNS_LABEL, maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** The CRD schema of a whole object: apiVersion, kind, metadata and spec required, metadata checked. */
function asDocument(schema: Schema): Schema {
  const properties = { ...(schema.properties as Schema), metadata: OBJECT_META };
  return {
    ...schema,
    properties,
    required: [
      ...new Set([...((schema.required as string[] | undefined) ?? []), 'apiVersion', 'kind', 'metadata', 'spec']),
    ],
  };
}

function kafkaSourceSchema(): Schema {
  const schema = asDocument(closeObjects(crdVersionSchema(SCHEMA_FILES.kafkaSource, 'v1')));
  const spec = (schema.properties as Schema).spec as Schema;
  const props = spec.properties as Schema;
  // Values the KafkaSource webhook accepts (kafka_validation.go, order.go), which the CRD types only as strings.
  props.initialOffset = { ...(props.initialOffset as Schema), enum: ['earliest', 'latest'] };
  props.ordering = { ...(props.ordering as Schema), enum: ['ordered', 'unordered'] };
  const delivery = props.delivery as Schema;
  const dProps = delivery.properties as Schema;
  dProps.backoffPolicy = { ...(dProps.backoffPolicy as Schema), enum: ['linear', 'exponential'] };
  return schema;
}

let ajv: Ajv | undefined;
const validators = new Map<SchemaKind, ValidateFunction>();

function compiler(): Ajv {
  if (ajv) return ajv;
  // strict: false: CRDs carry x-kubernetes-* keys and OpenAPI's `nullable`.
  ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const format of ['int32', 'int64', 'byte', 'double', 'float']) ajv.addFormat(format, true);
  return ajv;
}

function schemaOf(kind: SchemaKind): Schema {
  switch (kind) {
    case 'funcYaml':
      return withoutSchemaMarkers(JSON.parse(readFileSync(join(SCHEMAS_DIR, SCHEMA_FILES.funcYaml), 'utf8')));
    case 'job':
      return withoutSchemaMarkers(JSON.parse(readFileSync(join(SCHEMAS_DIR, SCHEMA_FILES.job), 'utf8')));
    case 'kafkaSource':
      return kafkaSourceSchema();
    case 'knativeService':
      return asDocument(closeObjects(crdVersionSchema(SCHEMA_FILES.knativeService, 'v1')));
    case 'scaledObject':
      return asDocument(closeObjects(crdVersionSchema(SCHEMA_FILES.scaledObject, 'v1alpha1')));
  }
}

export function validatorFor(kind: SchemaKind): ValidateFunction {
  let validate = validators.get(kind);
  if (!validate) {
    validate = compiler().compile(schemaOf(kind));
    validators.set(kind, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const where =
    error.instancePath === ''
      ? '(root)'
      : error.instancePath
          .slice(1)
          .split('/')
          .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
          .join('.');
  if (error.keyword === 'additionalProperties')
    return `${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'enum')
    return `${where}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${where}: ${error.message ?? error.keyword}`;
}

/** Problems of one document against a schema, as readable lines (empty when valid). */
export function validateAgainst(kind: SchemaKind, document: unknown): string[] {
  const validate = validatorFor(kind);
  if (validate(document)) return [];
  return [...new Set((validate.errors ?? []).map(describe))];
}
