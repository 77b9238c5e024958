/**
 * The CRDs `make deploy` needs in a cluster (scripts/deploy.sh checks them, the PodMonitor's
 * only when present), as official copies in test/fixtures: the tests install them into a
 * real API server and apply the project's manifests against them.
 */
import { join } from 'node:path';
import { type Doc, readYamlDocuments } from './manifests.ts';
import { ROOT, SCHEMAS_DIR } from './paths.ts';

export const CRD_FIXTURES_DIR = join(ROOT, 'test', 'fixtures', 'kubernetes');

export const CRD_FIXTURES = [
  join(SCHEMAS_DIR, 'knative-serving-service-crd.yaml'),
  join(SCHEMAS_DIR, 'kafkasource-crd.yaml'),
  join(CRD_FIXTURES_DIR, 'kafkasink-crd.yaml'),
  join(CRD_FIXTURES_DIR, 'kafkatopic-crd.yaml'),
  join(SCHEMAS_DIR, 'keda-scaledobject-crd.yaml'),
  join(CRD_FIXTURES_DIR, 'podmonitor-crd.yaml'),
  join(CRD_FIXTURES_DIR, 'apiserversource-crd.yaml'),
  join(CRD_FIXTURES_DIR, 'pingsource-crd.yaml'),
] as const;

/** Every CRD of the fixtures, as parsed documents. */
export function loadCrdFixtures(): Doc[] {
  return CRD_FIXTURES.flatMap((file) => readYamlDocuments(file)).filter((d) => d.kind === 'CustomResourceDefinition');
}
