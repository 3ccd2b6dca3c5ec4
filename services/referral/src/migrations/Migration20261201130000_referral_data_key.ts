import { Migration } from '@mikro-orm/migrations';
import { REFERRAL_DATA_KEY_SCHEMA_V1 } from '../referral-keys/referral-key-store';

/**
 * A data key per referral (ADR 14), wrapped under the key-encryption key: events seal the patient's details with
 * it. Referrals recorded before get theirs when their next event that carries patient details is written.
 */
export class Migration20261201130000_referral_data_key extends Migration {
  override name = 'Migration20261201130000_referral_data_key';

  override up(): void {
    this.addSql(REFERRAL_DATA_KEY_SCHEMA_V1);
  }
}
