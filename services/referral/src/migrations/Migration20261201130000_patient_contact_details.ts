import { Migration } from '@mikro-orm/migrations';

/** SMS and letters (issue 11): the patient's UK mobile (E.164), postal address and ordered contact preferences. */
export class Migration20261201130000_patient_contact_details extends Migration {
  override name = 'Migration20261201130000_patient_contact_details';

  override up(): void {
    this.addSql(`alter table patient
      add column mobile varchar(16) null,
      add column address jsonb null,
      add column contact_preferences jsonb null`);
  }
}
