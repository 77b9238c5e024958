/**
 * A real Kubernetes API server for tests: etcd and kube-apiserver as child processes on free
 * ports with temporary folders. scripts/setup-kube-apiserver.sh builds kube-apiserver into a
 * cache outside the clone and scripts/setup-etcd.sh installs Debian's etcd; where either is
 * missing, `kubeApiServerUnavailable()` says why, and the tests skip with that reason.
 *
 * Only the API server runs, no controller manager and no kubelet: objects are stored,
 * validated, defaulted and authorised exactly as in a cluster, but a Job never gets a Pod,
 * so a test moves a Job's status itself (the status subresource), as the Job controller would.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Child, PROJECT_ROOT, freePort, spawnChild, waitUntilReady } from '@streamforge/platform';
import { type KubeCluster, kubeRequest } from './kubernetes-client.ts';

/** The release scripts/kube-apiserver/go.mod requires, which names the cache folder as the set-up script does. */
export function kubeApiServerVersion(): string {
  const goMod = readFileSync(join(PROJECT_ROOT, 'scripts', 'kube-apiserver', 'go.mod'), 'utf8');
  const version = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(goMod)?.[1];
  if (!version) throw new Error('scripts/kube-apiserver/go.mod requires no k8s.io/kubernetes version');
  return version;
}

/** Where scripts/setup-kube-apiserver.sh puts the binary: the user's cache, never the clone. */
export function kubeApiServerBinary(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'streamforge', `kube-apiserver-${kubeApiServerVersion()}`, 'kube-apiserver');
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Why no API server can start on this machine, or undefined when one can. */
export function kubeApiServerUnavailable(): string | undefined {
  if (!existsSync(kubeApiServerBinary()))
    return `no kube-apiserver ${kubeApiServerVersion()} at ${kubeApiServerBinary()}: scripts/setup-kube-apiserver.sh builds it (needs Go)`;
  if (!onPath('etcd')) return "no etcd on PATH: scripts/setup-etcd.sh installs Debian's etcd-server (needs root)";
  return undefined;
}

export interface KubeApiServer extends KubeCluster {
  /** A kubeconfig file for the admin user (system:masters), as kubectl and client-node read one. */
  kubeconfig: string;
  /** The CA bundle file that verifies the server's certificate. */
  caFile: string;
  /** Milliseconds from spawning etcd to the API server answering /readyz. */
  startMs: number;
  pids: number[];
  /** Stops kube-apiserver, then etcd, and removes their folders. */
  stop(): Promise<void>;
}

export interface KubeApiServerOptions {
  /** How long the API server may take to be ready (a busy 2-core machine: tens of seconds). */
  readyTimeoutMs?: number;
}

interface Started {
  child: Child;
  name: string;
  log: string;
}

function start(name: string, command: string, args: string[], dir: string): Started {
  // Output goes to a file: a failed start shows its tail.
  const log = join(dir, `${name}.log`);
  return { child: spawnChild({ command, args, logFile: log }), name, log };
}

const tail = (started: Started): string => readFileSync(started.log, 'utf8').split('\n').slice(-25).join('\n');

export function kubeconfigFor(cluster: KubeCluster & { caFile: string }, user = 'admin'): string {
  // JSON is YAML: kubectl and client-node read it as a kubeconfig.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: { server: cluster.url, 'certificate-authority-data': readFileSync(cluster.caFile).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token: cluster.token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user } }],
    'current-context': 'test',
  });
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const unavailable = kubeApiServerUnavailable();
  if (unavailable) throw new Error(unavailable);
  const began = Date.now();
  // In memory where the machine has /dev/shm: etcd syncs every write, and a test's data is thrown away.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'streamforge-kube-'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  const [etcdPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,1,"system:masters"\n`);
  // The key pair ServiceAccount tokens are signed with (TokenRequest) and checked against.
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  writeFileSync(join(dir, 'sa.key'), keys.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), keys.publicKey);

  const processes: Started[] = [];
  const stopAll = async (): Promise<void> => {
    // The API server first: it would log etcd's absence until it exits.
    for (const p of [...processes].reverse()) await p.child.stop(10_000);
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that ends without stop() (a crash, --test-force-exit) leaves nothing behind.
  const killAll = (): void => {
    for (const p of processes) if (!p.child.hasExited()) p.child.process.kill('SIGKILL');
  };
  process.once('exit', killAll);

  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    processes.push(
      start(
        'etcd',
        'etcd',
        [
          '--data-dir',
          join(dir, 'etcd'),
          '--listen-client-urls',
          etcdUrl,
          '--advertise-client-urls',
          etcdUrl,
          '--listen-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-cluster',
          `default=http://127.0.0.1:${peerPort}`,
        ],
        dir,
      ),
    );
    processes.push(
      start(
        'kube-apiserver',
        kubeApiServerBinary(),
        [
          `--etcd-servers=${etcdUrl}`,
          `--cert-dir=${certs}`,
          `--secure-port=${securePort}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          '--service-account-issuer=https://kubernetes.default.svc',
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
          '--authorization-mode=RBAC',
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          '--service-cluster-ip-range=10.96.0.0/24',
        ],
        dir,
      ),
    );
    const url = `https://127.0.0.1:${securePort}`;
    // kube-apiserver writes its self-signed certificate (and the CA that signed it) before serving.
    const caFile = join(certs, 'apiserver.crt');
    const cluster = (): KubeCluster => ({ url, token, ca: readFileSync(caFile) });
    const ready = await waitUntilReady(
      async () => {
        if (!existsSync(caFile)) return false;
        try {
          return (await kubeRequest(cluster(), { method: 'GET', path: '/readyz' })).status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: options.readyTimeoutMs ?? 90_000, gaveUp: () => processes.some((p) => p.child.hasExited()) },
    );
    if (ready !== 'ready') {
      const why = processes.map((p) => `--- ${p.name}${p.child.hasExited() ? ' (exited)' : ''}:\n${tail(p)}`);
      throw new Error(`the Kubernetes API server is not ready (${ready}):\n${why.join('\n')}`);
    }
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor({ ...cluster(), caFile }));
    return {
      ...cluster(),
      caFile,
      kubeconfig,
      startMs: Date.now() - began,
      pids: processes.map((p) => p.child.pid ?? 0),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
