/**
 * Packages a bundle cannot inline (native add-ons) are copied next to it, into the image's
 * build/node_modules, with the dependency closure npm would have installed and only the
 * native binaries of the platform the image runs on (linux-x64): onnxruntime-node ships
 * 280 MB of binaries for every OS and CPU, of which the image needs 45 MB.
 *
 * The copy mirrors where each package sits under the project's node_modules, so Node's
 * resolution inside the image finds the same versions it found here.
 */
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ROOT } from './paths.ts';

/** The platform of the function images (the Paketo jammy stacks are linux/amd64). */
export const IMAGE_PLATFORM = { os: 'linux', arch: 'x64' } as const;

/** The packages this module vendors, as every function bundle leaves them outside. */
export { NATIVE_PACKAGES } from '@streamforge/platform/function-bundle';

export interface VendoredPackage {
  name: string;
  version: string;
  /** Where it sits in the image folder, e.g. `node_modules/onnxruntime-node`. */
  path: string;
  bytes: number;
  /** Native libraries and add-ons (.node, .so, .dylib, .dll) among those bytes. */
  nativeBytes: number;
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: `<dir>/node_modules/<name>`, walking up from `from` to the project root. */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dirname(dir) === dir) return undefined;
  }
}

/** Where a package found under the project goes in the image: the same place below node_modules. */
function imagePathOf(packageDir: string): string {
  const rel = relative(ROOT, packageDir).split(sep);
  const first = rel.indexOf('node_modules');
  if (first < 0) throw new Error(`${packageDir} is not inside a node_modules folder`);
  return rel.slice(first).join('/');
}

/** Native files of other platforms: onnxruntime-node keeps one folder per OS and CPU under bin/napi-v*. */
function isForeignBinary(relPath: string): boolean {
  const m = /(?:^|\/)bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(relPath);
  if (!m) return false;
  const [, os, arch] = m;
  return os !== IMAGE_PLATFORM.os || (arch !== undefined && arch !== IMAGE_PLATFORM.arch);
}

function isNative(file: string): boolean {
  return /\.(node|dylib|dll)$|\.so(\.\d+)*$/.test(file);
}

function sizeOf(dir: string): { bytes: number; nativeBytes: number } {
  let bytes = 0;
  let nativeBytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const size = statSync(join(entry.parentPath, entry.name)).size;
    bytes += size;
    if (isNative(entry.name)) nativeBytes += size;
  }
  return { bytes, nativeBytes };
}

/**
 * Copies `names` (resolved from `fromDir`) and everything they depend on into
 * `<imageDir>/node_modules`, without other platforms' binaries, nested node_modules of
 * packages handled separately, or symlinks (the image gets plain files only).
 */
export function vendorPackages(names: readonly string[], fromDir: string, imageDir: string): VendoredPackage[] {
  const done = new Map<string, VendoredPackage>();
  const visit = (name: string, from: string, optional: boolean): void => {
    const found = findPackage(name, from);
    if (found === undefined) {
      if (optional) return;
      throw new Error(`${name} (needed by the bundle) is not installed: run \`make setup\``);
    }
    if (lstatSync(found).isSymbolicLink())
      throw new Error(`${name} is a workspace link, not an installed package: it must be bundled, not vendored`);
    const dir = realpathSync(found);
    if (done.has(dir)) return;
    const pkg = readPackage(dir);
    const path = imagePathOf(found);
    const target = join(imageDir, path);
    rmSync(target, { recursive: true, force: true });
    cpSync(dir, target, {
      recursive: true,
      dereference: true,
      // Nested node_modules are copied as packages of their own, when something needs them.
      filter: (src) => {
        const rel = relative(dir, src).split(sep).join('/');
        return rel === '' || (!rel.startsWith('node_modules') && !isForeignBinary(rel));
      },
    });
    done.set(dir, { name: pkg.name, version: pkg.version, path, ...sizeOf(target) });
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, fromDir, false);
  return [...done.values()].sort((a, b) => a.path.localeCompare(b.path));
}
