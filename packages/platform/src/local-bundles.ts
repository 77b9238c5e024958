/**
 * Function instances on the local platform start from one bundled JavaScript file, as they
 * do from their image in a cluster (scripts/deploy/bundle.ts): loading ~450 modules and
 * stripping the types of ~50 TypeScript files made up most of a cold start. The bundle is
 * built with esbuild from the sources when `up` starts, and reused while no source changed
 * (kept in .cache/local-bundles, shared by every stack of the project).
 *
 * Unlike an image bundle it stays on this machine: project modules keep their real
 * `import.meta.url` (so paths computed from it, PROJECT_ROOT among them, hold), and native
 * packages are loaded from the project's node_modules by absolute path.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '@streamforge/core/telemetry';
import { NATIVE_PACKAGES } from '../../../scripts/deploy/vendor.ts';
import { PROJECT_ROOT } from './kafka-broker.ts';

// Native add-ons cannot be inlined (the image bundler's list); optional packages some libraries try to require may be absent.
const NATIVE: readonly string[] = NATIVE_PACKAGES;
const OPTIONAL = ['encoding', 'bufferutil', 'utf-8-validate'];

/** Imported first by every function process the platform starts (local-integrations.ts). */
export const LOCAL_INTEGRATIONS_URL = new URL('./local-integrations.ts', import.meta.url).href;

const BANNER =
  "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);";

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
    const esbuild = await import('esbuild');
    const require = createRequire(join(PROJECT_ROOT, 'package.json'));
    const source = [
      `import ${JSON.stringify(fileURLToPath(LOCAL_INTEGRATIONS_URL))};`,
      `import * as fn from ${JSON.stringify(entry)};`,
      `import { runUntilSignal } from ${JSON.stringify(join(PROJECT_ROOT, 'packages', 'core', 'src', 'runtime', 'run.ts'))};`,
      `import { createLogger } from ${JSON.stringify(join(PROJECT_ROOT, 'packages', 'core', 'src', 'telemetry', 'logger.ts'))};`,
      `await runUntilSignal(fn, { name: ${JSON.stringify(name)}, logger: createLogger({ service: ${JSON.stringify(name)} }) });`,
    ].join('\n');
    mkdirSync(dir, { recursive: true });
    const temporary = `${bundle}.${process.pid}.tmp`;
    const result = await esbuild.build({
      absWorkingDir: PROJECT_ROOT,
      stdin: { contents: source, resolveDir: dirname(entry), sourcefile: `${name}-local-entry.ts`, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile: temporary,
      banner: { js: BANNER },
      define: { 'import.meta.main': 'false' },
      external: OPTIONAL,
      // Not minified: stack traces name the functions and read as the sources do.
      sourcemap: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'streamforge-local',
          setup(build) {
            // Native packages: loaded from the project's node_modules, wherever the bundle is.
            build.onResolve({ filter: new RegExp(`^(${NATIVE.join('|')})$`) }, (args) => ({
              path: pathToFileURL(require.resolve(args.path)).href,
              external: true,
            }));
            // Project modules keep the URL of their own file.
            build.onLoad({ filter: /\.ts$/ }, (args) => {
              if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
              const text = readFileSync(args.path, 'utf8');
              return {
                contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
                loader: 'ts',
              };
            });
          },
        },
      ],
    });
    const inputs = Object.keys(result.metafile.inputs).filter(
      (file) => !file.startsWith('<') && existsSync(join(PROJECT_ROOT, file)),
    );
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
