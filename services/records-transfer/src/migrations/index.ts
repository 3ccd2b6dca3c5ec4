import { Migration20261124091000_initial } from './Migration20261124091000_initial';
import { Migration20261130120000_records } from './Migration20261130120000_records';
import { Migration20261201110000_idempotency } from './Migration20261201110000_idempotency';
import { Migration20261202090000_outbox_written } from './Migration20261202090000_outbox_written';

export const recordsTransferMigrations = [
  Migration20261124091000_initial,
  Migration20261130120000_records,
  Migration20261201110000_idempotency,
  Migration20261202090000_outbox_written,
];
