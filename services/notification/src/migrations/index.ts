import { Migration20261124093000_initial } from './Migration20261124093000_initial';
import { Migration20261125090000_referral_contact } from './Migration20261125090000_referral_contact';
import { Migration20261201120000_idempotency } from './Migration20261201120000_idempotency';
import { Migration20261201120000_notify_channels } from './Migration20261201120000_notify_channels';
import { Migration20261202090000_outbox_written } from './Migration20261202090000_outbox_written';

export const notificationMigrations = [
  Migration20261124093000_initial,
  Migration20261125090000_referral_contact,
  Migration20261201120000_idempotency,
  Migration20261201120000_notify_channels,
  Migration20261202090000_outbox_written,
];
