/**
 * Which environment variables a function reads, found in the sources its bundle is made of
 * (esbuild's metafile lists them, shared/ included transitively), and which have a default.
 * Code reads the environment only through env()/envInt()/envBool()/envList() of
 * packages/core/src/config.ts and declares each variable in its ENV table or with declareEnv()
 * (docs/conventions.md), so a literal name in such a call is a read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.ts';

export interface EnvRead {
  name: string;
  /** `file:line` of each read. */
  at: string[];
}

export interface EnvUsage {
  reads: EnvRead[];
  /** Calls whose name is not a literal (cannot be checked statically), as `file:line`. */
  dynamic: string[];
  /** Names declared with declareEnv() in these sources. */
  declared: string[];
  /** Files that call declareEnv(): importing them registers their declarations. */
  declaringFiles: string[];
}

const CALL = /\benv(?:Int|Bool|List)?\(/g;
const NAME_LITERAL = /^(?:'([A-Z][A-Z0-9_]*)'|"([A-Z][A-Z0-9_]*)")$/;

/** The first argument of a call whose `(` ends at `open`: the text up to a top-level `,` or `)`. */
function firstArgument(text: string, open: number): string {
  let depth = 0;
  let i = open;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth-- === 0) break;
    else if (c === ',' && depth === 0) break;
  }
  return text.slice(open, i).trim();
}
const CONFIG_FILE = 'packages/core/src/config.ts';

/** The project's own sources among the bundle's inputs (packages read the environment their own way). */
function isProjectSource(input: string): boolean {
  return !input.includes('node_modules/') && /\.(ts|mts|js|mjs)$/.test(input);
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** The keys of every `declareEnv({ … })` object literal in a source text. */
export function declaredNames(text: string): string[] {
  const names: string[] = [];
  for (let at = text.indexOf('declareEnv({'); at >= 0; at = text.indexOf('declareEnv({', at + 1)) {
    let depth = 0;
    let end = at + 'declareEnv('.length;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    const body = text.slice(at + 'declareEnv({'.length, end);
    // Top-level keys only: `NAME: {` at nesting depth 0 of the literal.
    let level = 0;
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === '{') level++;
      else if (c === '}') level--;
      else if (level === 0) {
        const m = /^([A-Z][A-Z0-9_]*)\s*:/.exec(body.slice(i));
        if (m && (i === 0 || /[\s,{]/.test(body[i - 1] as string))) {
          names.push(m[1] as string);
          i += (m[1] as string).length;
        }
      }
    }
  }
  return names;
}

export function envUsage(inputs: string[]): EnvUsage {
  const reads = new Map<string, string[]>();
  const dynamic: string[] = [];
  const declared: string[] = [];
  const declaringFiles: string[] = [];
  for (const input of inputs.filter(isProjectSource)) {
    const text = readFileSync(join(ROOT, input), 'utf8');
    if (input !== CONFIG_FILE) {
      for (const m of text.matchAll(CALL)) {
        const argument = firstArgument(text, m.index + m[0].length);
        const at = `${input}:${lineOf(text, m.index)}`;
        const literal = NAME_LITERAL.exec(argument);
        // A literal, or a choice between literals (`env(spot ? 'A' : 'B')`): each is a read.
        const names = literal
          ? [literal[1] ?? literal[2]]
          : [...argument.matchAll(/'([A-Z][A-Z0-9_]*)'|"([A-Z][A-Z0-9_]*)"/g)].map((x) => x[1] ?? x[2]);
        if (names.length === 0 || (!literal && /^[A-Za-z_$][\w$.]*$/.test(argument))) dynamic.push(at);
        else for (const name of names as string[]) reads.set(name, [...(reads.get(name) ?? []), at]);
      }
    }
    const names = declaredNames(text);
    if (names.length > 0) {
      declared.push(...names);
      declaringFiles.push(input);
    }
  }
  return {
    reads: [...reads.entries()].map(([name, at]) => ({ name, at })).sort((a, b) => a.name.localeCompare(b.name)),
    dynamic,
    declared: [...new Set(declared)].sort(),
    declaringFiles,
  };
}

type EnvSpecs = Record<string, { default: string | undefined; description: string }>;

/** The env table (ENV plus the declareEnv() calls of `declaringFiles`), as the process of the function would have it. */
export async function envTable(declaringFiles: string[]): Promise<{ specs: EnvSpecs; table: string[] }> {
  const config = (await import(pathToFileURL(join(ROOT, CONFIG_FILE)).href)) as { ENV: EnvSpecs; envSpecs(): EnvSpecs };
  for (const file of declaringFiles) await import(pathToFileURL(join(ROOT, file)).href);
  return { specs: config.envSpecs(), table: Object.keys(config.ENV) };
}
