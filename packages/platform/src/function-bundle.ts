/**
 * The one way a function is bundled by esbuild, shared by the local platform's bundles
 * (local-bundles.ts) and the image bundles (scripts/deploy/bundle.ts). Both bundle the same
 * entry (the function module served by runUntilSignal) with the same packages left outside;
 * what differs is passed in: where the bundle runs (so what a project module's
 * `import.meta.url` becomes and how a native package is found), the Node target and whether
 * the output is minified.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type * as esbuild from 'esbuild';

/**
 * Packages that stay outside every bundle because they load native code or a file next to
 * their own at run time: onnxruntime's add-on, and the Kafka client's CRC32C (a native add-on,
 * with a WebAssembly fallback read from its package folder).
 */
export const NATIVE_PACKAGES = ['onnxruntime-node', '@node-rs/crc32', '@platformatic/wasm-utils'] as const;

/**
 * Optional packages libraries `require` inside a try/catch: ws's native accelerators and
 * node-fetch's encoding. They are not installed, so the code falls back to JavaScript, exactly
 * as without a bundle; naming them keeps esbuild from looking for them.
 */
export const OPTIONAL_PACKAGES = ['encoding', 'bufferutil', 'utf-8-validate'] as const;

/**
 * CommonJS packages inside an ESM bundle call require() for Node built-ins; esbuild's shim
 * needs a real `require` in scope (esbuild docs, "bundling for node"). The helper on the
 * second line serves project modules' `import.meta.url` where the bundle is moved
 * (FunctionBundleOptions.moduleUrl).
 */
export const BUNDLE_BANNER = [
  "import { createRequire as __streamforgeCreateRequire } from 'node:module';",
  'const require = __streamforgeCreateRequire(import.meta.url);',
  'const __streamforgeModuleUrl = (path) => new URL(path, import.meta.url).href;',
].join('\n');

export interface EntrySourceOptions {
  /** The function's name (func.yaml), its service name in logs. */
  name: string;
  /** Specifier of the function module, resolved from the entry's folder. */
  functionModule: string;
  /** Modules imported before anything else, for their side effects. */
  preload?: string[];
  /** An argument that makes the bundle load every module and exit instead of serving. */
  verifyFlag?: string;
}

/** The source of a bundle's entry: the function module served by the StreamForge runtime. */
export function functionEntrySource(options: EntrySourceOptions): string {
  const lines = [
    `// Entry of the ${options.name} bundle: the function module served by the StreamForge runtime.`,
    ...(options.preload ?? []).map((specifier) => `import ${JSON.stringify(specifier)};`),
    `import * as functionModule from ${JSON.stringify(options.functionModule)};`,
    "import { runUntilSignal } from '@streamforge/core/runtime';",
    "import { createLogger } from '@streamforge/core/telemetry';",
    `const name = ${JSON.stringify(options.name)};`,
  ];
  if (options.verifyFlag !== undefined)
    lines.push(
      '// The image build (verify.mjs) loads every module once without serving, which also fills',
      "// Node's compile cache that the start command reads.",
      `if (process.argv.includes(${JSON.stringify(options.verifyFlag)})) {`,
      '  console.log(JSON.stringify({ function: name, exports: Object.keys(functionModule).sort(), node: process.version }));',
      '  process.exit(0);',
      '}',
    );
  lines.push('await runUntilSignal(functionModule, { name, logger: createLogger({ service: name }) });', '');
  return lines.join('\n');
}

export interface FunctionBundleOptions {
  /** The project root: esbuild's working folder, and what tells a project module from a package. */
  root: string;
  /** The entry's source (functionEntrySource) and the folder its imports resolve from. */
  contents: string;
  resolveDir: string;
  /** Name of the entry in messages and source maps. */
  sourcefile: string;
  outfile: string;
  /** Node major the bundle targets. */
  nodeMajor: number;
  /**
   * The expression that replaces `import.meta.url` in a project module (absolute path): in a
   * bundle every module's own would be the bundle's, so a path a module computes from its
   * location would point elsewhere.
   */
  moduleUrl: (file: string) => string;
  /** Where a native package is loaded from; by its name (resolved beside the bundle) by default. */
  nativePath?: (name: string) => string;
  /** Image settings: minified with names kept (the runtime recognises a CloudEvent by its constructor's name), linked map and licences. */
  minify?: boolean;
  write?: boolean;
}

function projectModules(root: string, moduleUrl: (file: string) => string): esbuild.Plugin {
  return {
    name: 'streamforge-project-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        const rel = relative(root, args.path).split(sep).join('/');
        if (rel.startsWith('..') || rel.includes('node_modules/')) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        return {
          contents: text.replaceAll('import.meta.url', moduleUrl(args.path)),
          loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js',
        };
      });
    },
  };
}

function nativeResolution(nativePath: (name: string) => string): esbuild.Plugin {
  return {
    name: 'streamforge-native-path',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(${NATIVE_PACKAGES.join('|')})$`) }, (args) => ({
        path: nativePath(args.path),
        external: true,
      }));
    },
  };
}

/** esbuild on a function's entry: one ESM file for Node, everything inlined but native and optional packages. */
export async function bundleFunctionEntry(
  options: FunctionBundleOptions,
): Promise<esbuild.BuildResult<{ metafile: true }>> {
  // Loaded on first use: the local platform runs the sources when esbuild cannot load.
  const { build } = await import('esbuild');
  const plugins = [projectModules(options.root, options.moduleUrl)];
  if (options.nativePath) plugins.push(nativeResolution(options.nativePath));
  const minify = options.minify ?? false;
  return await build({
    absWorkingDir: options.root,
    stdin: { contents: options.contents, resolveDir: options.resolveDir, sourcefile: options.sourcefile, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${options.nodeMajor}`,
    outfile: options.outfile,
    external: options.nativePath ? [...OPTIONAL_PACKAGES] : [...NATIVE_PACKAGES, ...OPTIONAL_PACKAGES],
    // Unminified, stack traces name the functions and read as the sources do.
    ...(minify
      ? { minify: true, keepNames: true, legalComments: 'linked', sourcemap: 'linked', sourcesContent: false }
      : { sourcemap: false }),
    banner: { js: BUNDLE_BANNER },
    // Inside a bundle the file is the process's main module for every inlined module, so a
    // `if (import.meta.main)` CLI guard (packages/gnn/src/train-cli.ts) would run in the function.
    define: { 'import.meta.main': 'false' },
    plugins,
    metafile: true,
    logLevel: 'silent',
    write: options.write ?? true,
  });
}
