/**
 * JSON Schema validation for every boundary. Schemas compile once, at module load; a
 * failure becomes a StreamForgeError whose message names each failing field and the reason,
 * e.g. `time_range: must match pattern "^\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}$"`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { StreamForgeError } from '../errors.ts';

// ajv-formats is CommonJS with a default export; under NodeNext the namespace object is what arrives.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const ajv = new Ajv({
  allErrors: true,
  strict: true,
  strictRequired: false,
  strictTypes: false,
  allowUnionTypes: true,
});
addFormats(ajv);

export type JsonSchema = Record<string, unknown>;

export interface FieldError {
  field: string;
  reason: string;
}

/** `/records/3/open` → `records[3].open`; the root is `(root)`. */
function fieldOf(error: ErrorObject): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') parts.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') parts.push(String(error.params.additionalProperty));
  if (parts.length === 0) return '(root)';
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`),
    '',
  );
}

function reasonOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    default:
      return error.message ?? error.keyword;
  }
}

export function describeErrors(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  // `anyOf: [{required: [a]}, {required: [b]}]` reads better as one line: "a or b: is required".
  const alternatives = new Map<string, string[]>();
  for (const error of errors ?? []) {
    const branch = /^(.*)\/anyOf\/\d+\/required$/.exec(error.schemaPath);
    if (error.keyword === 'required' && branch) {
      const id = `${error.instancePath}|${branch[1]}`;
      alternatives.set(id, [...(alternatives.get(id) ?? []), String(error.params.missingProperty)]);
    }
  }
  for (const [id, names] of alternatives) {
    const path = id.slice(0, id.indexOf('|'));
    const prefix = path === '' ? '' : `${path.slice(1).replaceAll('/', '.')}.`;
    out.push({ field: names.map((n) => prefix + n).join(' or '), reason: 'is required' });
  }
  for (const error of errors ?? []) {
    // `if/then` and `anyOf` wrappers repeat what their branches already said.
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    if (error.keyword === 'required' && /\/anyOf\/\d+\/required$/.test(error.schemaPath)) continue;
    const item = { field: fieldOf(error), reason: reasonOf(error) };
    const id = `${item.field}\u0000${item.reason}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(item);
    }
  }
  return out;
}

export interface Contract<T> {
  name: string;
  schema: JsonSchema;
  /** Returns the value typed, or throws SF_CONTRACT_INVALID naming every failing field. */
  parse(value: unknown): T;
  /** The failing fields, or an empty list. */
  check(value: unknown): FieldError[];
}

export function defineContract<T>(name: string, schema: JsonSchema): Contract<T> {
  // Compiled on first use: a function pays only for the contracts it checks (cold starts).
  let compiled: ValidateFunction | undefined;
  const validate = (value: unknown): boolean => {
    compiled ??= ajv.compile(schema);
    const ok = compiled(value);
    validate.errors = compiled.errors;
    return ok;
  };
  validate.errors = undefined as ValidateFunction['errors'];
  return {
    name,
    schema,
    parse(value: unknown): T {
      if (validate(value)) return value as T;
      const errors = describeErrors(validate.errors);
      const message = `${name}: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`;
      throw new StreamForgeError('SF_CONTRACT_INVALID', message, { details: { contract: name, errors } });
    },
    check(value: unknown): FieldError[] {
      return validate(value) ? [] : describeErrors(validate.errors);
    },
  };
}
