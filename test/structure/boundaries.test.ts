/**
 * The structure the README's folder table describes holds: every package declares exactly
 * the packages its production code imports, no function's image can contain a local-only
 * package, and neither packages nor the folders inside one import each other in a cycle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '@streamforge/platform';
import { cyclesOf, dependencyProblems, folderGraph, sourceFiles, type WorkspacePackage } from './import-graph.ts';

function readWorkspace(): { packages: WorkspacePackage[]; files: Map<string, string>; rootDev: string[] } {
  const packages: WorkspacePackage[] = [];
  const files = new Map<string, string>();
  for (const parent of ['packages', 'functions']) {
    for (const name of readdirSync(join(PROJECT_ROOT, parent))) {
      const folder = `${parent}/${name}`;
      const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, folder, 'package.json'), 'utf8'));
      packages.push({
        folder,
        name: manifest.name,
        localOnly: manifest.streamforge?.localOnly === true,
        dependencies: Object.keys(manifest.dependencies ?? {}),
        devDependencies: Object.keys(manifest.devDependencies ?? {}),
      });
      for (const path of sourceFiles(join(PROJECT_ROOT, folder)))
        files.set(relative(PROJECT_ROOT, path), readFileSync(path, 'utf8'));
    }
  }
  const root = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
  return { packages, files, rootDev: Object.keys(root.devDependencies ?? {}) };
}

const workspace = readWorkspace();

test('every package lists exactly what its production code imports, and nothing shipped imports a local-only package', () => {
  assert.deepEqual(dependencyProblems(workspace.files, workspace.packages, workspace.rootDev), []);
});

test('no two packages, and no two folders of one package, import each other in a cycle', () => {
  assert.deepEqual(cyclesOf(folderGraph(workspace.files, workspace.packages)), []);
});

test('the checks report a planted violation of each rule', () => {
  const core: WorkspacePackage = {
    folder: 'packages/core',
    name: '@streamforge/core',
    localOnly: false,
    dependencies: ['pino'],
    devDependencies: [],
  };
  const platform: WorkspacePackage = {
    folder: 'packages/platform',
    name: '@streamforge/platform',
    localOnly: true,
    dependencies: ['@streamforge/core'],
    devDependencies: [],
  };
  const fn: WorkspacePackage = {
    folder: 'functions/loader-api',
    name: '@streamforge/loader-api',
    localOnly: false,
    dependencies: ['@streamforge/core', 'undici'],
    devDependencies: [],
  };
  const files = new Map([
    [
      'packages/core/src/bus/producer.ts',
      "import pino from 'pino';\nimport type { Logger } from '../telemetry/logger.ts';",
    ],
    ['packages/core/src/telemetry/logger.ts', "import { TOPICS } from '../bus/producer.ts';"],
    ['packages/platform/src/stack.ts', "import { x } from '@streamforge/core/bus';\nexport { y } from 'yaml';"],
    [
      'functions/loader-api/src/index.ts',
      "import { startStack } from '@streamforge/platform';\nconst m = await import('../../../packages/core/src/errors.ts');",
    ],
    [
      'functions/loader-api/test/index.test.ts',
      "import fc from 'fast-check';\nimport { waitFor } from '@streamforge/testing';",
    ],
  ]);
  assert.deepEqual(dependencyProblems(files, [core, platform, fn], ['fast-check']), [
    'packages/platform/src/stack.ts: imports yaml, which packages/platform/package.json does not list in dependencies',
    'functions/loader-api/src/index.ts: production code imports @streamforge/platform, which is local only (never in an image)',
    'functions/loader-api/src/index.ts: imports @streamforge/platform, which functions/loader-api/package.json does not list in dependencies',
    'functions/loader-api/src/index.ts: imports ../../../packages/core/src/errors.ts by a relative path into packages/core; import @streamforge/core instead',
    "functions/loader-api/test/index.test.ts: imports @streamforge/testing, which neither functions/loader-api/package.json nor the root's devDependencies list",
    'functions/loader-api/package.json: lists @streamforge/core in dependencies, but no file of its src/ imports it',
    'functions/loader-api/package.json: lists undici in dependencies, but no file of its src/ imports it',
  ]);
  assert.deepEqual(cyclesOf(folderGraph(files, [core, platform, fn])), [
    ['packages/core/src/bus', 'packages/core/src/telemetry', 'packages/core/src/bus'],
  ]);
  const cyclic = new Map([...files, ['packages/core/src/errors.ts', "import { stack } from '@streamforge/platform';"]]);
  assert.deepEqual(
    cyclesOf(folderGraph(cyclic, [core, platform, fn])).filter((c) => c[0]!.startsWith('@')),
    [['@streamforge/core', '@streamforge/platform', '@streamforge/core']],
  );
});
