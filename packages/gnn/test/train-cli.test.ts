import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { gnnTrainCommand, GNN_TRAIN_USAGE, type CommandIo } from '../src/train-cli.ts';
import { fixtureUrl } from './fixtures.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KARATE = fileURLToPath(fixtureUrl('karate-club.json'));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) };
  const code = await gnnTrainCommand(argv, io);
  return { code, stdout, stderr };
}

test('gnn train prints exactly one JSON line with the accuracies and the run settings', async () => {
  const { code, stdout, stderr } = await run([
    '--dataset',
    KARATE,
    '--epochs',
    '60',
    '--hidden',
    '8',
    '--lr',
    '0.02',
    '--weight-decay',
    '0',
    '--dropout',
    '0.3',
    '--seed',
    '7',
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0]);
  assert.equal(result.dataset, 'karate-club');
  assert.equal(result.epochs, 60);
  assert.equal(result.split, 'stratified');
  assert.deepEqual([result.hidden, result.lr, result.weight_decay, result.dropout, result.seed], [8, 0.02, 0, 0.3, 7]);
  for (const key of ['train_accuracy', 'val_accuracy', 'test_accuracy'])
    assert.ok(result[key] >= 0 && result[key] <= 1, key);
  assert.ok(result.seconds >= 0);
});

test('gnn train --onnx writes a model that decodes, and --early-stopping may end the run early', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gnn-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'karate.onnx');
  const { code, stdout } = await run(['--dataset', KARATE, '--epochs=1000', '--early-stopping=10', `--onnx=${out}`]);
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.ok(result.stopped_early && result.epochs < 1000);
  const bytes = readFileSync(out);
  assert.equal(result.onnx_bytes, bytes.length);
  assert.equal(onnxProto.onnx.ModelProto.decode(bytes).graph?.name, 'gcn2');
});

test('gnn train refuses bad arguments with exit 2, the reason and the usage on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [[], /--dataset: required/],
    [['--dataset'], /--dataset: missing value/],
    [['--dataset', KARATE, '--epochs', '0'], /--epochs: must be an integer ≥ 1, got "0"/],
    [['--dataset', KARATE, '--epochs', '2.5'], /--epochs: must be an integer ≥ 1, got "2.5"/],
    [['--dataset', KARATE, '--hidden', 'many'], /--hidden: must be an integer ≥ 1, got "many"/],
    [['--dataset', KARATE, '--lr', '0'], /--lr: must be a number > 0, got "0"/],
    [['--dataset', KARATE, '--weight-decay', '-1e-4'], /--weight-decay: must be a number ≥ 0, got "-1e-4"/],
    [['--dataset', KARATE, '--dropout', '1'], /--dropout: must be a number in \[0, 1\), got "1"/],
    [['--dataset', KARATE, '--seed', '-1'], /--seed: must be an integer in \[0, 4294967295\], got "-1"/],
    [['--dataset', KARATE, '--early-stopping', 'x'], /--early-stopping: must be an integer ≥ 1, got "x"/],
    [['--dataset', KARATE, '--epochs', '5', '--epochs', '6'], /--epochs: given twice/],
    [['--dataset', KARATE, '--batch', '4'], /unknown option --batch/],
    [['--dataset', KARATE, 'extra'], /unexpected argument "extra"/],
  ];
  for (const [argv, message] of cases) {
    const { code, stdout, stderr } = await run(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.ok(stderr.endsWith(GNN_TRAIN_USAGE));
  }
});

test('gnn train exits 1 naming the file when the dataset is missing', async () => {
  const { code, stdout, stderr } = await run(['--dataset', 'no/such/dataset.json']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /^gnn train: dataset no\/such\/dataset.json: no such file\n$/);
});

test('gnn train --help prints the usage', async () => {
  const { code, stdout } = await run(['--help']);
  assert.equal(code, 0);
  assert.equal(stdout, GNN_TRAIN_USAGE);
});

test('train-cli.ts runs standalone with node and sets the exit code', async () => {
  const child = spawn(
    process.execPath,
    ['packages/gnn/src/train-cli.ts', '--dataset', 'test/fixtures/gnn/karate-club.json', '--epochs', '20'],
    { cwd: PROJECT_ROOT },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).epochs, 20);
  const bad = spawn(process.execPath, ['packages/gnn/src/train-cli.ts', '--epochs', '20'], {
    cwd: PROJECT_ROOT,
    stdio: 'ignore',
  });
  assert.equal(await new Promise<number | null>((resolve) => bad.once('exit', resolve)), 2);
});
