/**
 * The build of a function's image folder, `functions/<name>/build/`, which is all the image
 * needs (func.yaml points the Paketo Node buildpacks at it with BP_NODE_PROJECT_PATH=build):
 *
 * - `index.mjs`: one ESM file, esbuild's bundle of an entry that imports the function module
 *   and serves it with `runUntilSignal` (the same start as the local platform's), Node 24
 *   target, the `@streamforge/*` workspace packages and every pure-JS package inlined, minified with names kept
 *   (the runtime recognises a returned CloudEvent by its constructor's name); beside it its
 *   source map (paths relative to the project) and the licences of what it inlines;
 * - the project files the code reads at run time (the loader-ws Job template), at their path
 *   under the project, which the bundled modules' `import.meta.url` now resolves to;
 * - `node_modules/`: only the native packages that cannot be inlined (onnxruntime-node),
 *   with their dependencies, trimmed to linux-x64 (vendor.ts);
 * - `package.json`: what the buildpacks read: no registry dependency to fetch (the
 *   workspace's `@streamforge/*` packages are not on npm and must never be looked up there), the
 *   vendored packages pinned, `build` = verify.mjs (run by BP_NODE_RUN_SCRIPTS=build),
 *   `start` = node on the bundle (the npm-start buildpack's launch command);
 * - `.npmrc`: the buildpack's npm install/rebuild fetches nothing and runs no install script;
 * - `verify.mjs`: fails the image build when the builder's Node is older than the bundle's
 *   target or the bundle cannot load, and fills Node's compile cache for faster cold starts.
 */
import { builtinModules } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type * as esbuild from 'esbuild';
import { NATIVE_PACKAGES, bundleFunctionEntry, functionEntrySource } from '@streamforge/platform/function-bundle';
import { BUILD_SUBDIR, ROOT, functionDir, relativeToRoot } from './paths.ts';
import { vendorPackages, type VendoredPackage } from './vendor.ts';

/** The Node major the bundle targets and the image runs (BP_NODE_VERSION in func.yaml). */
export const NODE_MAJOR = 24;
export const BUNDLE_FILE = 'index.mjs';

/** Node's on-disk compile cache (V8 code cache), filled by the image build, read at every start. */
export const COMPILE_CACHE_DIR = '.node-compile-cache';
/** Argument of index.mjs that loads every module and exits instead of serving (the image build's check). */
export const VERIFY_FLAG = '--verify-image';

/** What the image's `npm start` runs (and the tests and benchmark run the same way). */
export const START_COMMAND = `NODE_COMPILE_CACHE=${COMPILE_CACHE_DIR} node ${BUNDLE_FILE}`;

/**
 * In a bundle every module's `import.meta.url` would be the bundle's, so a path a project
 * module computes from its own location (the Job template in packages/core/src/jobs) would
 * point outside the image. Each project module instead sees the URL it would have in a
 * project rooted at the image folder, where the files it reads at run time are copied
 * (projectFilesReadAtRunTime).
 */
function imageModuleUrl(file: string): string {
  return `__streamforgeModuleUrl(${JSON.stringify(relative(ROOT, file).split(sep).join('/'))})`;
}

/**
 * Project files (not code) the bundled modules read at run time by a path relative to
 * themselves (`new URL('../../../../knative/loader-ws-job.yaml', import.meta.url)`): they go
 * into the image at the same path relative to the project root. A file read as text
 * (`readFileSync(new URL('./app.js', import.meta.url))`, the console's script) goes in
 * whatever its extension; any other URL of code is a module the bundle already holds.
 */
export function projectFilesReadAtRunTime(inputs: string[]): string[] {
  const found = new Set<string>();
  for (const input of inputs.filter((i) => !i.includes('node_modules/'))) {
    const text = readFileSync(join(ROOT, input), 'utf8');
    for (const m of text.matchAll(/(readFileSync\(\s*)?new URL\(\s*'([^']+)'\s*,\s*import\.meta\.url\s*\)/g)) {
      const rel = relative(ROOT, resolve(dirname(join(ROOT, input)), m[2] as string))
        .split(sep)
        .join('/');
      if (m[1] || !/\.(ts|mts|cts|js|mjs|cjs)$/.test(rel)) found.add(rel);
    }
  }
  return [...found]
    .filter((rel) => !rel.startsWith('..') && existsSync(join(ROOT, rel)) && statSync(join(ROOT, rel)).isFile())
    .sort();
}

export interface BundleOptions {
  /** The image folder to write; functions/<name>/build by default. */
  outDir?: string;
  /** false: analyse only (metafile), write nothing. */
  write?: boolean;
}

export interface BundleResult {
  name: string;
  outDir: string;
  /** Bytes of index.mjs. */
  bundleBytes: number;
  /** Source files inlined into the bundle, relative to the project root. */
  inputs: string[];
  /** Packages imported by the bundle and vendored beside it. */
  vendored: VendoredPackage[];
  /** Optional packages the bundle may try to load and does without. */
  optionalMissing: string[];
  /** Project files the bundle reads at run time, copied into the image folder at the same path. */
  assets: string[];
  warnings: string[];
  ms: number;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function isInstalled(name: string, from: string): boolean {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
    if (dir === ROOT || dirname(dir) === dir) return false;
  }
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function functionName(dir: string): string {
  const funcYaml = parseYaml(readFileSync(join(dir, 'func.yaml'), 'utf8')) as { name?: string };
  if (!funcYaml.name) throw new Error(`${relativeToRoot(dir)}/func.yaml has no name`);
  return funcYaml.name;
}

// The buildpack's npm install/rebuild in build/ has nothing to fetch: vendored packages are
// complete and their install scripts (onnxruntime-node downloads GPU add-ons) must not run;
// no audit or funding calls to the registry either.
const NPMRC =
  '# GENERATED by scripts/bundle-functions.ts, do not edit.\nignore-scripts=true\naudit=false\nfund=false\nupdate-notifier=false\n';

function imagePackageJson(name: string, version: string, vendored: VendoredPackage[], direct: string[]): string {
  const dependencies = Object.fromEntries(
    vendored.filter((p) => direct.includes(p.name)).map((p) => [p.name, p.version]),
  );
  const pkg = {
    name: `streamforge-${name}-image`,
    version,
    private: true,
    description: `GENERATED by scripts/bundle-functions.ts, do not edit: what the Paketo Node buildpacks build the ${name} image from.`,
    type: 'module',
    engines: { node: `${NODE_MAJOR}.x` },
    scripts: { build: 'node verify.mjs', start: START_COMMAND },
    dependencies,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function verifyScript(direct: string[]): string {
  return `// GENERATED by scripts/bundle-functions.ts, do not edit. The image build's \`npm run build\`
// (BP_NODE_RUN_SCRIPTS=build): the folder has what \`npm start\` needs, on a Node the bundle
// targets, and every module of the bundle loads; that first load also writes Node's compile
// cache (${COMPILE_CACHE_DIR}), which shortens every cold start of the image.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const major = Number(process.versions.node.split('.')[0]);
if (major < ${NODE_MAJOR}) {
  console.error(\`Node \${process.versions.node} is older than the bundle's target (${NODE_MAJOR}): set BP_NODE_VERSION=${NODE_MAJOR} in func.yaml buildEnvs\`);
  process.exit(1);
}
if (!existsSync(new URL('./${BUNDLE_FILE}', import.meta.url))) {
  console.error('${BUNDLE_FILE} is missing: run \`make bundles\` before \`func deploy\`');
  process.exit(1);
}
${direct.map((d) => `await import(${JSON.stringify(d)});\n`).join('')}const load = spawnSync(process.execPath, ['${BUNDLE_FILE}', '${VERIFY_FLAG}'], {
  cwd: fileURLToPath(new URL('.', import.meta.url)),
  env: { ...process.env, NODE_COMPILE_CACHE: '${COMPILE_CACHE_DIR}' },
  stdio: 'inherit',
});
if (load.status !== 0) {
  console.error('${BUNDLE_FILE} failed to load its modules');
  process.exit(1);
}
`;
}

/**
 * esbuild writes source paths relative to the map's folder, which for a bundle written
 * outside the project would spell this machine's folders. Paths relative to the project
 * root, with the root where it sits from functions/<name>/build, hold wherever the map goes.
 */
function relativizeSourceMap(mapFile: string): void {
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; sourceRoot?: string };
  map.sources = map.sources.map((source) =>
    relative(ROOT, resolve(dirname(mapFile), source))
      .split(sep)
      .join('/'),
  );
  map.sourceRoot = '../../../';
  writeFileSync(mapFile, JSON.stringify(map));
}

/**
 * esbuild on an entry source (resolved from `resolveDir`) with the image's settings: one ESM
 * file for Node 24, everything inlined but native packages, project modules seeing their
 * image-rooted `import.meta.url`.
 */
export async function bundleEntry(
  contents: string,
  resolveDir: string,
  outfile: string,
  write = true,
): Promise<esbuild.BuildResult<{ metafile: true }>> {
  return await bundleFunctionEntry({
    root: ROOT,
    contents,
    resolveDir,
    sourcefile: 'image-entry.ts',
    outfile,
    nodeMajor: NODE_MAJOR,
    moduleUrl: imageModuleUrl,
    minify: true,
    write,
  });
}

/** Bundles one function (by folder name) into its image folder and returns what went in. */
export async function bundleFunction(folder: string, options: BundleOptions = {}): Promise<BundleResult> {
  const name = functionName(functionDir(folder));
  const entry = functionEntrySource({ name, functionModule: './src/index.ts', verifyFlag: VERIFY_FLAG });
  return await bundleImageFolder(folder, name, entry, options);
}

/**
 * Writes the image folder of the program in functions/<folder> whose bundle starts with
 * `entry` (a source resolved from that folder): the bundle, the project files it reads, its
 * native packages, package.json, .npmrc and verify.mjs. Functions and Job programs alike.
 */
export async function bundleImageFolder(
  folder: string,
  name: string,
  entry: string,
  options: BundleOptions = {},
): Promise<BundleResult> {
  const started = performance.now();
  const dir = functionDir(folder);
  const outDir = options.outDir ?? join(dir, BUILD_SUBDIR);
  const write = options.write ?? true;
  if (write) cleanImageFolder(outDir);
  const result = await bundleEntry(entry, dir, join(outDir, BUNDLE_FILE), write);
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith(BUNDLE_FILE));
  if (!output) throw new Error(`esbuild wrote no ${BUNDLE_FILE} for ${folder}`);
  const externals = [
    ...new Set(output[1].imports.filter((i) => i.external && !BUILTINS.has(i.path)).map((i) => packageNameOf(i.path))),
  ].sort();
  const direct = externals.filter((e) => (NATIVE_PACKAGES as readonly string[]).includes(e));
  // Anything else left outside is a package that is not installed, required inside a
  // try/catch (esbuild keeps such calls: ws's bufferutil, node-fetch's encoding); the code
  // runs without it, here as in the image. One that is installed should have been inlined.
  const optionalMissing = externals.filter((e) => !direct.includes(e));
  const installed = optionalMissing.filter((e) => isInstalled(e, dir));
  if (installed.length > 0)
    throw new Error(
      `${folder}: the bundle leaves ${installed.join(', ')} outside although installed; inline them or add them to NATIVE_PACKAGES`,
    );
  // The generated entry (stdin) is the one input that is not a file of the project.
  const inputs = Object.keys(result.metafile.inputs).filter((i) => existsSync(join(ROOT, i)));
  const warnings = result.warnings.map(
    (w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`,
  );

  const assets = projectFilesReadAtRunTime(inputs);
  let vendored: VendoredPackage[] = [];
  if (write) {
    relativizeSourceMap(join(outDir, `${BUNDLE_FILE}.map`));
    for (const asset of assets) {
      mkdirSync(dirname(join(outDir, asset)), { recursive: true });
      copyFileSync(join(ROOT, asset), join(outDir, asset));
    }
    vendored = vendorPackages(direct, dir, outDir);
    const version =
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
    writeFileSync(join(outDir, 'package.json'), imagePackageJson(name, version, vendored, direct));
    writeFileSync(join(outDir, '.npmrc'), NPMRC);
    writeFileSync(join(outDir, 'verify.mjs'), verifyScript(direct));
  }
  return {
    name,
    outDir,
    bundleBytes: write ? statSync(join(outDir, BUNDLE_FILE)).size : output[1].bytes,
    inputs,
    vendored,
    optionalMissing,
    assets,
    warnings,
    ms: Math.round(performance.now() - started),
  };
}

/** Empties a function's image folder before a fresh bundle (stale vendored packages would linger). */
export function cleanImageFolder(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
}
