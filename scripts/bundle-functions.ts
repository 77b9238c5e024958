/**
 * `make bundles`: writes the image folder, functions/<name>/build/, of each function and of
 * each Job program (loader-ws; scripts/deploy/bundle.ts, job-images.ts), and prints one JSON
 * document with what went into each.
 *
 *   node scripts/bundle-functions.ts              every function with a func.yaml, every Job image
 *   node scripts/bundle-functions.ts loader-api   only these
 */
import { functionNames, relativeToRoot } from './deploy/paths.ts';
import { bundleFunction } from './deploy/bundle.ts';
import { JOB_IMAGES, bundleJob, jobImage } from './deploy/job-images.ts';

const requested = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const jobs = JOB_IMAGES.map((j) => j.name);
const known = [...functionNames(), ...jobs];
const unknown = requested.filter((n) => !known.includes(n));
if (unknown.length > 0) {
  console.error(`no function folder with a func.yaml or Job image: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  process.exit(2);
}

const report: Record<string, unknown>[] = [];
let failed = false;
for (const folder of requested.length > 0 ? requested : known) {
  try {
    const r = jobs.includes(folder) ? await bundleJob(jobImage(folder)) : await bundleFunction(folder);
    report.push({
      function: r.name,
      folder: relativeToRoot(r.outDir),
      bundle_bytes: r.bundleBytes,
      inputs: r.inputs.length,
      vendored: r.vendored.map((p) => ({
        name: p.name,
        version: p.version,
        bytes: p.bytes,
        native_bytes: p.nativeBytes,
      })),
      assets: r.assets,
      optional_missing: r.optionalMissing,
      warnings: r.warnings,
      ms: r.ms,
    });
  } catch (error) {
    failed = true;
    report.push({ function: folder, error: (error as Error).message });
  }
}
console.log(JSON.stringify({ bundles: report }, null, 2));
if (failed) process.exit(1);
