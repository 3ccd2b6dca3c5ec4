import { Migration } from '@mikro-orm/migrations';

/** The read model of the complete process: the chosen team, due dates, decisions' outcomes, revision. */
export class Migration20261124130000_process extends Migration {
  override name = 'Migration20261124130000_process';

  override up(): void {
    this.addSql(`
      alter table referral
        add column original_team_id varchar(64),
        add column original_team_email varchar(320),
        add column referring_practice_email varchar(320),
        add column target_team_id varchar(64),
        add column target_team_ods varchar(10),
        add column target_team_name varchar(200),
        add column target_team_email varchar(320),
        add column target_site_name varchar(200),
        add column distance_km double precision,
        add column attempt integer not null default 0,
        add column revision integer not null default 0,
        add column due_at timestamptz,
        add column due_step text,
        add column appointment_at timestamptz,
        add column appointment_site_ods varchar(10),
        add column appointment_site_name varchar(200),
        add column opinion_outcome text check (opinion_outcome in ('concurs', 'differs', 'partially-differs')),
        add column original_team_informed_at timestamptz,
        add column closed_at timestamptz;
      create index referral_target_team_idx on referral (target_team_ods, state, created_at desc);
      create index referral_original_team_idx on referral (original_team_ods, created_at desc);
      create index referral_due_idx on referral (due_at) where due_at is not null;
      create index referral_patient_idx on referral (patient_id, created_at desc);
    `);
  }
}
