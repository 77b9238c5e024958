/**
 * The test run's Kubernetes API server, handed to test files through the environment the
 * way KAFKA_BROKERS hands them the broker: test/run.ts starts one server for the whole run
 * (and installs the CRD fixtures), or says why it could not, and each test file reads it here.
 * Tests share it, so each one works in namespaces of its own (uniqueName).
 */
import { readFileSync } from 'node:fs';
import type { KubeApiServer } from './kube-apiserver.ts';
import type { KubeCluster } from './kubernetes-client.ts';

const URL_VAR = 'STREAMFORGE_TEST_KUBE_URL';
const TOKEN_VAR = 'STREAMFORGE_TEST_KUBE_TOKEN';
const CA_VAR = 'STREAMFORGE_TEST_KUBE_CA_FILE';
const KUBECONFIG_VAR = 'STREAMFORGE_TEST_KUBECONFIG';
const UNAVAILABLE_VAR = 'STREAMFORGE_TEST_NO_KUBERNETES';

export interface TestKubernetes extends KubeCluster {
  caFile: string;
  /** The admin's kubeconfig file. */
  kubeconfig: string;
}

/** The variables test/run.ts passes to the test files. */
export function kubernetesTestEnv(server: KubeApiServer | { unavailable: string }): Record<string, string> {
  if ('unavailable' in server) return { [UNAVAILABLE_VAR]: server.unavailable };
  return {
    [URL_VAR]: server.url,
    [TOKEN_VAR]: server.token,
    [CA_VAR]: server.caFile,
    [KUBECONFIG_VAR]: server.kubeconfig,
  };
}

/** Why the Kubernetes tests skip on this machine (what test/run.ts found), or undefined when they run. */
export function kubernetesSkipReason(): string | undefined {
  const reason = process.env[UNAVAILABLE_VAR];
  return reason === undefined || reason === '' ? undefined : reason;
}

export function testKubernetes(): TestKubernetes {
  const url = process.env[URL_VAR];
  const token = process.env[TOKEN_VAR];
  const caFile = process.env[CA_VAR];
  const kubeconfig = process.env[KUBECONFIG_VAR];
  if (!url || !token || !caFile || !kubeconfig)
    throw new Error(
      'this test needs the Kubernetes API server: run it through `node test/run.ts` (or `make test`), which starts one',
    );
  return { url, token, ca: readFileSync(caFile), caFile, kubeconfig };
}
