/**
 * Function instances on the local platform start from one bundled JavaScript file, as they
 * do from their image in a cluster, by the same bundler (function-bundle.ts): loading ~450 modules and
 * stripping the types of ~50 TypeScript files made up most of a cold start. The bundle is
 * built with esbuild from the sources when `up` starts, and reused while no source changed
 * (kept in .cache/local-bundles, shared by every stack of the project).
 *
 * Unlike an image bundle it stays on this machine: project modules keep their real
 * `import.meta.url` (so paths computed from it hold), and native packages are loaded from the
 * project's node_modules by absolute path.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '@streamforge/core/telemetry';
import { bundleFunctionEntry, functionEntrySource } from './function-bundle.ts';
import { PROJECT_ROOT } from './kafka-broker.ts';

/** Imported first by every function process the platform starts (local-integrations.ts). */
export const LOCAL_INTEGRATIONS_URL = new URL('./local-integrations.ts', import.meta.url).href;

/** The bundler's own files: a change to how bundles are made rebuilds them too. */
const BUNDLER_FILES = [import.meta.url, new URL('./function-bundle.ts', import.meta.url).href].map((url) =>
  relative(PROJECT_ROOT, fileURLToPath(url)),
);

interface Manifest {
  inputs: Record<string, string>;
}

function fingerprint(file: string): string {
  const stat = statSync(file);
  return `${stat.size}:${stat.mtimeMs}`;
}

function upToDate(bundle: string, manifestFile: string): boolean {
  if (!existsSync(bundle) || !existsSync(manifestFile)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    return Object.entries(manifest.inputs).every(
      ([file, print]) => existsSync(join(PROJECT_ROOT, file)) && fingerprint(join(PROJECT_ROOT, file)) === print,
    );
  } catch {
    return false;
  }
}

/**
 * The bundle of one function's entry (the function module served by runUntilSignal), built
 * or reused; undefined when it cannot be built (the caller then runs the sources).
 */
export async function localBundle(name: string, entry: string, logger: Logger): Promise<string | undefined> {
  const dir = join(PROJECT_ROOT, '.cache', 'local-bundles');
  const bundle = join(dir, `${name}.mjs`);
  const manifestFile = join(dir, `${name}.inputs.json`);
  if (upToDate(bundle, manifestFile)) return bundle;
  try {
    const require = createRequire(join(PROJECT_ROOT, 'package.json'));
    mkdirSync(dir, { recursive: true });
    const temporary = `${bundle}.${process.pid}.tmp`;
    const result = await bundleFunctionEntry({
      root: PROJECT_ROOT,
      contents: functionEntrySource({
        name,
        functionModule: entry,
        preload: [fileURLToPath(LOCAL_INTEGRATIONS_URL)],
      }),
      resolveDir: dirname(entry),
      sourcefile: `${name}-local-entry.ts`,
      outfile: temporary,
      nodeMajor: 22,
      // Project modules keep the URL of their own file.
      moduleUrl: (file) => JSON.stringify(pathToFileURL(file).href),
      // Native packages: loaded from the project's node_modules, wherever the bundle is.
      nativePath: (nativeName) => pathToFileURL(require.resolve(nativeName)).href,
    });
    const inputs = [
      ...Object.keys(result.metafile.inputs).filter(
        (file) => !file.startsWith('<') && existsSync(join(PROJECT_ROOT, file)),
      ),
      ...BUNDLER_FILES,
    ];
    renameSync(temporary, bundle);
    writeFileSync(
      manifestFile,
      JSON.stringify({
        inputs: Object.fromEntries(inputs.map((file) => [file, fingerprint(join(PROJECT_ROOT, file))])),
      } satisfies Manifest),
    );
    logger.info(
      { function: name, inputs: inputs.length, bundle: relative(PROJECT_ROOT, bundle) },
      'local bundle built',
    );
    return bundle;
  } catch (error) {
    logger.warn(
      { function: name, err: (error as Error).message },
      'local bundle not built; the instances run the sources',
    );
    return undefined;
  }
}
