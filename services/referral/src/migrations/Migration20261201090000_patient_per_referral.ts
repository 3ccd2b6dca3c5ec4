import { Migration } from '@mikro-orm/migrations';

/**
 * The patient's details belong to the referral they came with (ADR 12): one patient row per referral. A row that
 * several referrals shared is copied for each referral but the oldest, with the details it holds now (the earlier
 * ones were overwritten and cannot be recovered); the NHS number stops being unique and stays indexed.
 */
export class Migration20261201090000_patient_per_referral extends Migration {
  override name = 'Migration20261201090000_patient_per_referral';

  override up(): void {
    this.addSql(`
      alter table patient drop constraint patient_nhs_number_key;
      create index patient_nhs_number_idx on patient (nhs_number);

      create temporary table patient_copy on commit drop as
        select r.id as referral_id, r.patient_id, gen_random_uuid() as new_patient_id
        from (
          select id, patient_id, row_number() over (partition by patient_id order by created_at, id) as nth
          from referral
        ) r
        where r.nth > 1;

      insert into patient (id, nhs_number, name, email, phone, preferred_channel, created_at, updated_at)
        select c.new_patient_id, p.nhs_number, p.name, p.email, p.phone, p.preferred_channel, p.created_at, now()
        from patient_copy c join patient p on p.id = c.patient_id;

      update referral r set patient_id = c.new_patient_id from patient_copy c where r.id = c.referral_id;
      create unique index referral_patient_unique on referral (patient_id);
    `);
  }
}
