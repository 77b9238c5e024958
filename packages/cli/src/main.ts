/**
 * `streamforge <command>`: the command line of the local platform and of the API.
 */
import { gnnTrainCommand } from '@streamforge/gnn/train-cli';
import { dlqCommand } from './dlq-commands.ts';
import { psCommand } from './ps-command.ts';
import { downCommand, upCommand } from './stack-commands.ts';
import { backfillCommand, lsCommand, statusCommand } from './workflow-commands.ts';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  up: {
    run: upCommand,
    help: 'start the local stack in the background (broker, functions, dispatcher); --simulator uses the exchange simulator',
  },
  down: { run: downCommand, help: 'stop the local stack, leaving no process behind' },
  ps: { run: psCommand, help: 'ps [--json]: instances per function, lag per KafkaSource, recent scaling decisions' },
  backfill: {
    run: backfillCommand,
    help: 'backfill SYMBOL TYPE YYYY-MM-DD:YYYY-MM-DD [--bulk]: start a historical download (--bulk: from the public archives) and show its progress until it ends',
  },
  status: { run: statusCommand, help: 'status [QUEUE_ID]: one workflow in detail, or the stack and its workflows' },
  ls: { run: lsCommand, help: 'ls [--status S] [--limit N]: list workflows, newest first' },
  dlq: {
    run: dlqCommand,
    help: 'dlq ls [--workflow ID] | show ID | replay (--workflow ID | ID... | --all): dead letters with their reason; replay after a fix',
  },
  gnn: {
    run: gnnCommand,
    help: 'gnn train --dataset FILE [--epochs N --hidden H --lr L --weight-decay W --dropout D --seed S]: train a GCN, print one JSON line',
  },
};

async function gnnCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'train') return gnnTrainCommand(rest);
  console.error('usage: streamforge gnn train --dataset FILE [options]  (see `streamforge gnn train --help`)');
  return 2;
}

function usage(): string {
  return [
    'usage: streamforge <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.help}`),
  ].join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  console.log(usage());
  process.exit(0);
}
const command = COMMANDS[name];
if (!command) {
  console.error(`unknown command "${name}"\n\n${usage()}`);
  process.exit(2);
}
try {
  process.exit(await command.run(args));
} catch (error) {
  console.error(`streamforge ${name}: ${(error as Error).message}`);
  process.exit(1);
}
