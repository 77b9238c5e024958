/**
 * The project's import graph, read from the sources: which workspace package each file
 * belongs to, what it imports, and the rules the structure keeps (docs/structure.md).
 * Pure functions over a file map, so a test can plant a violation and see it reported.
 */
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';

const NOT_SOURCES = new Set(['node_modules', '.git', '.cache', '.tools', '.streamforge', 'build']);

/** The TypeScript and JavaScript files under a folder, without installed, generated or local state. */
export function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_SOURCES.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) yield path;
  }
}

export interface WorkspacePackage {
  /** Folder relative to the project root: packages/core, functions/loader-api. */
  folder: string;
  name: string;
  /** Never part of a function's image: the local platform, simulator, test helpers, CLI. */
  localOnly: boolean;
  dependencies: string[];
  devDependencies: string[];
}

/** Every module a file imports: static, type-only, re-exports, side-effect and dynamic imports. */
export function importsOf(text: string): string[] {
  return [
    ...text.matchAll(
      /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ].map((m) => (m[1] ?? m[2]) as string);
}

const BUILTINS = new Set(builtinModules);
const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || BUILTINS.has(specifier);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

function ownerOf(file: string, packages: WorkspacePackage[]): WorkspacePackage | undefined {
  return packages.find((p) => file.startsWith(`${p.folder}/`));
}

/** Production code: what a package or function ships (its src/ and bin/), not its tests. */
const isProduction = (file: string, owner: WorkspacePackage): boolean =>
  /^(src|bin)\//.test(file.slice(owner.folder.length + 1));

/**
 * Imports that break the package rules: a package imported but not declared (dependencies
 * for production code; dependencies, devDependencies or the root's for tests), a relative
 * path into another package, production code that reaches a local-only package, and a
 * production dependency that no production file imports.
 */
export function dependencyProblems(
  files: ReadonlyMap<string, string>,
  packages: WorkspacePackage[],
  rootDevDependencies: string[],
): string[] {
  const problems: string[] = [];
  const used = new Map<string, Set<string>>(packages.map((p) => [p.folder, new Set<string>()]));
  const byName = new Map(packages.map((p) => [p.name, p]));
  for (const [file, text] of files) {
    const owner = ownerOf(file, packages);
    if (owner === undefined) continue;
    const production = isProduction(file, owner);
    for (const specifier of importsOf(text)) {
      if (isBuiltin(specifier)) continue;
      if (specifier.startsWith('.')) {
        const target = normalize(join(dirname(file), specifier));
        const targetOwner = ownerOf(target, packages);
        if (targetOwner !== undefined && targetOwner !== owner)
          problems.push(
            `${file}: imports ${specifier} by a relative path into ${targetOwner.folder}; import ${targetOwner.name} instead`,
          );
        continue;
      }
      const name = packageNameOf(specifier);
      if (name === owner.name) continue;
      const target = byName.get(name);
      if (production) {
        used.get(owner.folder)!.add(name);
        if (target?.localOnly && !owner.localOnly)
          problems.push(`${file}: production code imports ${name}, which is local only (never in an image)`);
        if (!owner.dependencies.includes(name))
          problems.push(`${file}: imports ${name}, which ${owner.folder}/package.json does not list in dependencies`);
      } else if (
        !owner.dependencies.includes(name) &&
        !owner.devDependencies.includes(name) &&
        !rootDevDependencies.includes(name)
      ) {
        problems.push(
          `${file}: imports ${name}, which neither ${owner.folder}/package.json nor the root's devDependencies list`,
        );
      }
    }
  }
  for (const p of packages) {
    for (const dependency of p.dependencies) {
      if (!used.get(p.folder)!.has(dependency))
        problems.push(
          `${p.folder}/package.json: lists ${dependency} in dependencies, but no file of its src/ imports it`,
        );
      if (byName.get(dependency)?.localOnly && !p.localOnly)
        problems.push(`${p.folder}/package.json: depends on ${dependency}, which is local only`);
    }
  }
  return problems;
}

/** Cycles in a directed graph, each as the path that closes it (a → b → a). */
export function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

/**
 * The folders of each package's src/ (a file at src/ is its own node) and which import which;
 * the packages themselves are nodes too, joined by their production imports.
 */
export function folderGraph(
  files: ReadonlyMap<string, string>,
  packages: WorkspacePackage[],
): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const edge = (from: string, to: string): void => {
    if (from === to) return;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  };
  const nodeOf = (file: string, owner: WorkspacePackage): string => {
    const inside = file.slice(owner.folder.length + 1).split('/');
    return inside.length > 2 ? `${owner.folder}/${inside[0]}/${inside[1]}` : `${owner.folder}/${inside.join('/')}`;
  };
  const byName = new Map(packages.map((p) => [p.name, p]));
  for (const [file, text] of files) {
    const owner = ownerOf(file, packages);
    if (owner === undefined || !isProduction(file, owner)) continue;
    for (const specifier of importsOf(text)) {
      if (specifier.startsWith('.')) {
        const target = normalize(join(dirname(file), specifier));
        if (ownerOf(target, packages) === owner) edge(nodeOf(file, owner), nodeOf(target, owner));
      } else {
        const target = byName.get(packageNameOf(specifier));
        if (target !== undefined && target !== owner) edge(owner.name, target.name);
      }
    }
  }
  return graph;
}
