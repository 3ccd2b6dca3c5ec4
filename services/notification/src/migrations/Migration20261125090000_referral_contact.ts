import { Migration } from '@mikro-orm/migrations';

/**
 * Who to tell about a referral: the contact details its later events do not carry (the patient's, the GP
 * practice's, the teams'). Written from referral.requested.v1 and the process events in the inbox transaction.
 * Never the NHS number.
 */
export class Migration20261125090000_referral_contact extends Migration {
  override name = 'Migration20261125090000_referral_contact';

  override up(): void {
    this.addSql(`
      create table referral_contact (
        referral_id uuid primary key,
        urgency text not null check (urgency in ('routine', 'urgent')),
        patient_name text not null,
        patient_email text,
        patient_phone text,
        patient_preferred_channel text not null check (patient_preferred_channel in ('email', 'sms', 'letter')),
        referring_practice_ods text not null,
        referring_practice_email text,
        original_team_name text not null,
        original_team_ods text not null,
        original_team_id text,
        original_team_email text,
        -- the patient chose to have the original team told (rule 9): it is then told of a withdrawal too
        original_team_informed boolean not null default false,
        -- the team currently asked for the second opinion; null before the GP refers and after it rejects
        target_team_name text,
        target_team_ods text,
        target_team_id text,
        target_team_email text,
        -- referral.referred.v1 attempt that set the target; an older or repeated one never overwrites it
        target_attempt integer check (target_attempt > 0),
        updated_at timestamptz not null,
        constraint referral_contact_target_complete check ((target_team_name is null) = (target_team_ods is null))
      );
    `);
  }
}
