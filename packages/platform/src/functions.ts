/**
 * The functions of the project as the local platform sees them: every folder under
 * functions/ with a func.yaml (what `func deploy` deploys), its entry module, and the
 * environment its func.yaml gives it, with `{{ configMap:… }}`, `{{ secret:… }}` and
 * `{{ env:… }}` references resolved against the local platform's own values.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadFuncYaml, type FuncYaml } from './manifests.ts';

export interface LocalFunction {
  name: string;
  dir: string;
  entry: string;
  funcYaml: FuncYaml;
  scale: { min: number; max: number; target: number };
  /** Requests one instance takes at once (Knative's containerConcurrency); 0 is unlimited. */
  concurrency: number;
}

export function discoverFunctions(functionsDir: string): LocalFunction[] {
  if (!existsSync(functionsDir)) return [];
  return readdirSync(functionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(functionsDir, d.name, 'func.yaml')))
    .map((d) => {
      const dir = join(functionsDir, d.name);
      const funcYaml = loadFuncYaml(dir);
      const scale = funcYaml.deploy?.options?.scale ?? {};
      return {
        name: funcYaml.name,
        dir,
        entry: join(dir, 'src', 'index.ts'),
        funcYaml,
        // Knative's defaults when func.yaml says nothing: scale to zero, unbounded, 100 concurrent.
        scale: { min: scale.min ?? 0, max: scale.max ?? 0, target: scale.target ?? 100 },
        concurrency: funcYaml.deploy?.options?.resources?.limits?.concurrency ?? 0,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const REFERENCE = /^\{\{\s*(env|configMap|secret):([^:}\s]+)(?::([^}\s]+))?\s*\}\}$/;

/**
 * The environment func.yaml's `run.envs` gives a function. References to ConfigMaps and
 * Secrets resolve to the local platform's value of the same key (`local`), falling back to
 * the machine environment; a reference nothing can resolve is left out, so the function's
 * own default applies (packages/core/src/config.ts).
 */
export function resolveRunEnvs(
  funcYaml: FuncYaml,
  local: Record<string, string | undefined>,
  machine: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of funcYaml.run?.envs ?? []) {
    if (!entry.name || entry.value === undefined) continue;
    const ref = REFERENCE.exec(entry.value.trim());
    if (!ref) {
      out[entry.name] = entry.value;
      continue;
    }
    const [, kind, first, second] = ref as unknown as [string, string, string, string | undefined];
    const key = kind === 'env' ? first : (second ?? entry.name);
    const value = local[key] ?? machine[key];
    if (value !== undefined) out[entry.name] = value;
  }
  return out;
}
