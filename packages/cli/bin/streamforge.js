#!/usr/bin/env node
// Launcher of the `streamforge` command. Plain JavaScript, so any Node can run it; it hands
// over to a Node that runs the project's TypeScript (>= 22.18), the project's own Node 24
// in .tools/node when the machine's is older (see scripts/setup-node.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 18);
const local = `${root}.tools/node/bin/node`;
const node = modern ? process.execPath : existsSync(local) ? local : undefined;
if (node === undefined) {
  console.error(
    `streamforge needs Node >= 22.18 (this is ${process.version}); run \`make setup\` once to install Node 24 into .tools/node`,
  );
  process.exit(1);
}
const result = spawnSync(node, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
