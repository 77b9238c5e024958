import type { BackfillDeps } from '@streamforge/backfill';
import type { ArchiveClient } from '@streamforge/exchange/archive';

/** What loader-producer works with: the REST backfill's dependencies, and the archive site. */
export interface BulkDeps extends BackfillDeps {
  archive: ArchiveClient;
}
