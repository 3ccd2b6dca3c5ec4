import { Migration20261124090000_initial } from './Migration20261124090000_initial';
import { Migration20261124130000_process } from './Migration20261124130000_process';
import { Migration20261124120000_directory } from './Migration20261124120000_directory';
import { Migration20261201090000_patient_per_referral } from './Migration20261201090000_patient_per_referral';
import { Migration20261201100000_idempotency } from './Migration20261201100000_idempotency';
import { Migration20261201130000_referral_data_key } from './Migration20261201130000_referral_data_key';
import { Migration20261201130000_patient_contact_details } from './Migration20261201130000_patient_contact_details';
import { Migration20261201150000_operations_watch } from './Migration20261201150000_operations_watch';
import { Migration20261202090000_outbox_written } from './Migration20261202090000_outbox_written';

/** Every migration of this service, in order. Listed explicitly so the compiled service finds them without globbing. */
export const referralMigrations = [
  Migration20261124090000_initial,
  Migration20261124120000_directory,
  Migration20261124130000_process,
  Migration20261201090000_patient_per_referral,
  Migration20261201100000_idempotency,
  Migration20261201130000_referral_data_key,
  Migration20261201130000_patient_contact_details,
  Migration20261201150000_operations_watch,
  Migration20261202090000_outbox_written,
];
