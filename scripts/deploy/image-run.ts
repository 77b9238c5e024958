/**
 * Runs a function the way its image would: its image folder alone (copied to an empty
 * temporary folder outside the project, so nothing resolves through the project's
 * node_modules), started by the image's own `npm start` command from build/ (as the
 * npm-start buildpack does), with the environment its func.yaml gives it: ConfigMap values
 * from knative/, Secrets left unset (their placeholders hold no values), Knative's K_SERVICE,
 * and this machine's broker, a temporary SQLite store and local Jobs in place of the cluster's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleFunction, type BundleResult } from './bundle.ts';
import { copyImageFiles } from './image-contents.ts';
import { ofKind, parseEnvReference, type FunctionManifest, type Manifests } from './manifests.ts';
import { BUILD_SUBDIR, functionDir } from './paths.ts';

export interface ImageFolder {
  /** The copy of what the image build receives. */
  dir: string;
  /** Its build/ folder, where `npm start` runs. */
  buildDir: string;
  files: string[];
  bundle: BundleResult;
  remove(): void;
}

/** Bundles a function into a fresh temporary image folder (the function's own build/ is left alone). */
export async function prepareImageFolder(folder: string): Promise<ImageFolder> {
  const dir = mkdtempSync(join(tmpdir(), `streamforge-image-${folder}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const files = copyImageFiles(functionDir(folder), dir, { skip: [BUILD_SUBDIR] });
    const bundle = await bundleFunction(folder, { outDir: join(dir, BUILD_SUBDIR) });
    return { dir, buildDir: join(dir, BUILD_SUBDIR), files, bundle, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export interface ImageEnvOptions {
  kafkaBrokers: string;
  storeUrl: string;
  port: number;
  topicPrefix?: string;
}

/** The environment the function's container would get, with this machine's broker and store. */
export function imageEnv(m: Manifests, f: FunctionManifest, options: ImageEnvOptions): Record<string, string> {
  const maps = new Map(ofKind(m.knative, 'ConfigMap').map((d) => [d.doc.metadata.name as string, d.doc.data ?? {}]));
  const env: Record<string, string> = {};
  for (const e of (f.funcYaml.run?.envs ?? []) as Array<{ name: string; value?: string }>) {
    if (e.value === undefined) continue;
    const ref = parseEnvReference(e.value);
    if (!ref) env[e.name] = e.value;
    else if (ref.kind === 'configMap') {
      const data = maps.get(ref.name) ?? {};
      if (ref.key === undefined) Object.assign(env, data);
      else if (data[ref.key] !== undefined) env[e.name] = String(data[ref.key]);
    }
    // Secrets: no values in the repository, so the function's defaults apply.
  }
  return {
    ...env,
    KAFKA_BROKERS: options.kafkaBrokers,
    STORE_URL: options.storeUrl,
    ...(options.topicPrefix ? { KAFKA_TOPIC_PREFIX: options.topicPrefix } : {}),
    FUNC_PORT: String(options.port),
    K_SERVICE: String(f.funcYaml.name),
    // The image's PATH has node on it; nothing else of this machine's environment is passed.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
  };
}

export interface StartedImage {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawning the start command to the first 200 from /health/readiness. */
  readyMs: number;
  output(): string;
  /** SIGTERM (the pod's stop), then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs build/package.json's build script (`npm run build` in the image build; verify.mjs). */
export function buildImage(buildDir: string): { status: number | null; output: string } {
  const build = (JSON.parse(readFileSync(join(buildDir, 'package.json'), 'utf8')) as { scripts: { build: string } })
    .scripts.build;
  const r = spawnSync('sh', ['-c', build], {
    cwd: buildDir,
    env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Runs build/package.json's start script in `buildDir` and waits until /health/readiness answers 200. */
export async function startImage(
  buildDir: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<StartedImage> {
  const start = (JSON.parse(readFileSync(join(buildDir, 'package.json'), 'utf8')) as { scripts: { start: string } })
    .scripts.start;
  const url = `http://127.0.0.1:${env.FUNC_PORT}`;
  let output = '';
  const began = performance.now();
  // As the npm-start buildpack's start script does: run the start command under a shell that
  // passes SIGTERM (the pod's stop) on to it and exits with its status. Its own process group,
  // so that a hung start can be killed whole.
  const script = `${start} &\npid=$!\ntrap 'kill -TERM $pid' TERM INT\nwait $pid\ntrap - TERM INT\nwait $pid\n`;
  const child = spawn('sh', ['-c', script], { cwd: buildDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    try {
      process.kill(child.pid!, 'SIGTERM');
    } catch {
      return child.exitCode;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the image's start command exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${url}/health/readiness`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return { child, url, readyMs: performance.now() - began, output: () => output, stop };
    } catch {
      // not listening yet
    }
    if (performance.now() - began > timeoutMs) {
      await stop();
      throw new Error(`not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
