import { Migration20261124100000_initial } from './Migration20261124100000_initial';
import { Migration20261125100000_hash_chain } from './Migration20261125100000_hash_chain';
import { Migration20261201120000_idempotency } from './Migration20261201120000_idempotency';
import { Migration20261202090000_outbox_written } from './Migration20261202090000_outbox_written';

export const auditMigrations = [
  Migration20261124100000_initial,
  Migration20261125100000_hash_chain,
  Migration20261201120000_idempotency,
  Migration20261202090000_outbox_written,
];
