/**
 * Every environment variable StreamForge reads, with its default and meaning, in one table.
 * Code reads the environment only through `env()`, so a manifest cross-check can prove that
 * each variable a function reads is set by its manifest or has a default here.
 */
import { StreamForgeError } from './errors.ts';

interface EnvSpec {
  /** Used when the variable is unset or empty; `undefined` means required. */
  default: string | undefined;
  description: string;
}

export const ENV = {
  KAFKA_BROKERS: { default: '127.0.0.1:9092', description: 'Comma-separated Kafka bootstrap servers.' },
  KAFKA_CLIENT_ID: { default: 'streamforge', description: 'Kafka client id prefix.' },
  KAFKA_SASL_MECHANISM: {
    default: '',
    description: 'SASL mechanism (plain, scram-sha-256, scram-sha-512); empty for none.',
  },
  KAFKA_SASL_USERNAME: { default: '', description: 'SASL user, from a Secret.' },
  KAFKA_SASL_PASSWORD: { default: '', description: 'SASL password, from a Secret.' },
  KAFKA_SSL: { default: 'false', description: 'Use TLS to reach the brokers.' },
  KAFKA_TOPIC_PREFIX: {
    default: '',
    description: 'Prefix for every topic of the topic plan (tests use a unique one).',
  },
  LOG_LEVEL: { default: 'info', description: 'pino log level.' },
  FUNC_PORT: { default: '8080', description: 'Port a function serves on (as faas-js-runtime).' },
  FUNC_HOST: { default: '0.0.0.0', description: 'Address a function listens on; the local platform uses 127.0.0.1.' },
  FUNC_BODY_LIMIT: {
    default: '1048576',
    description: 'Largest request body in bytes (the Knative Node runtime limit).',
  },
  STREAMFORGE_PORT: {
    default: '8080',
    description: 'Port of the queue-manager API on the local platform; 0 takes any free port (stack.json names it).',
  },
  STREAMFORGE_HOME: {
    default: '',
    description: 'Folder of the local stack state; .streamforge in the project by default.',
  },
  STREAMFORGE_API_URL: { default: '', description: 'API the CLI talks to; read from the running stack when unset.' },
  STREAMFORGE_API_TOKEN: { default: '', description: 'Bearer token the manager requires on every route when set.' },
  STREAMFORGE_RUN_SOURCES: {
    default: '',
    description:
      'Local platform only: run function instances from their TypeScript sources instead of a bundle built at `up`.',
  },
  STREAMFORGE_MAX_SCALE: {
    default: '',
    description: 'Local platform only: caps every function at this many instances (a fixed-size baseline).',
  },
  STREAMFORGE_POLLING_INTERVAL_MS: {
    default: '',
    description: "Local platform only: overrides the KafkaSources' polling-interval (tests).",
  },
  STREAMFORGE_COOLDOWN_SECONDS: {
    default: '',
    description: "Local platform only: overrides the KafkaSources' cooldown-period (tests).",
  },
  STREAMFORGE_PING_PERIOD_MS: {
    default: '',
    description:
      "Local platform only: sends the PingSources' events at this fixed period instead of their schedule (tests).",
  },
  JOB_EVENTS_KUBECONFIG: {
    default: '',
    description:
      "Local platform only, with JOB_LAUNCHER=kubernetes: the kubeconfig of the ApiServerSource's own account (knative/job-events.yaml), which watches the Jobs; default KUBECONFIG.",
  },
  STREAMFORGE_PING_HOLD_FILE: {
    default: '',
    description:
      'Local platform only: the PingSources skip their ticks while this file exists (tests hold them until they have seen the state a tick must find).',
  },
  STREAMFORGE_STOP_WITH_PID: {
    default: '',
    description:
      'Local platform only: the stack stops itself once this process is gone (test stacks die with their test run).',
  },
  K_SERVICE: { default: '', description: 'Set by Knative: the service name.' },
  POD_NAME: { default: '', description: 'Set by Kubernetes through the downward API: the pod (instance) name.' },
} as const satisfies Record<string, EnvSpec>;

export type EnvName = keyof typeof ENV;

/** Extra variables a module declares next to the code that reads them. */
const extra = new Map<string, EnvSpec>();

export function declareEnv(specs: Record<string, EnvSpec>): void {
  for (const [name, spec] of Object.entries(specs)) extra.set(name, spec);
}

export function envSpecs(): Record<string, EnvSpec> {
  return { ...ENV, ...Object.fromEntries(extra) };
}

function specOf(name: string): EnvSpec {
  const spec = (ENV as Record<string, EnvSpec>)[name] ?? extra.get(name);
  if (spec === undefined)
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `environment variable ${name} is not declared in packages/core/src/config.ts`,
    );
  return spec;
}

/** The value of a declared variable, its default when unset, or a clear error when required. */
export function env(name: string, source: NodeJS.ProcessEnv = process.env): string {
  const spec = specOf(name);
  const value = source[name];
  if (value !== undefined && value !== '') return value;
  if (spec.default !== undefined) return spec.default;
  throw new StreamForgeError('SF_CONFIG_INVALID', `environment variable ${name} is required: ${spec.description}`);
}

export function envInt(name: string, source: NodeJS.ProcessEnv = process.env): number {
  const raw = env(name, source);
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new StreamForgeError('SF_CONFIG_INVALID', `environment variable ${name} must be an integer, got "${raw}"`);
  return value;
}

export function envBool(name: string, source: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env(name, source).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(raw)) return false;
  throw new StreamForgeError('SF_CONFIG_INVALID', `environment variable ${name} must be true or false, got "${raw}"`);
}

export function envList(name: string, source: NodeJS.ProcessEnv = process.env): string[] {
  return env(name, source)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
