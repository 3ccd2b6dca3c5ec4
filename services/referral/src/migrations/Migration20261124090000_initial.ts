import { Migration } from '@mikro-orm/migrations';
import { MESSAGING_SCHEMA_V1 } from '@sonet/messaging';

export class Migration20261124090000_initial extends Migration {
  override name = 'Migration20261124090000_initial';

  override up(): void {
    this.addSql(MESSAGING_SCHEMA_V1);
    this.addSql(`
      create table patient (
        id uuid primary key,
        nhs_number varchar(10) not null unique,
        name varchar(200) not null,
        email varchar(320),
        phone varchar(32),
        preferred_channel text not null check (preferred_channel in ('email', 'sms', 'letter')),
        created_at timestamptz not null,
        updated_at timestamptz not null
      );

      create table referral (
        id uuid primary key,
        patient_id uuid not null references patient (id),
        referring_practice varchar(10) not null,
        original_team_ods varchar(10) not null,
        original_team_name varchar(200) not null,
        responsible_team_ods varchar(10) not null,
        specialty varchar(100) not null,
        urgency text not null check (urgency in ('routine', 'urgent')),
        reason text not null,
        explained_by_original_team boolean not null,
        records_sharing_consent boolean not null,
        consent_recorded_at timestamptz,
        state text not null,
        workflow_id varchar(100) not null unique,
        traceparent varchar(55),
        created_at timestamptz not null,
        updated_at timestamptz not null,
        version integer not null default 1
      );
      create index referral_practice_idx on referral (referring_practice, created_at desc);
      create index referral_state_idx on referral (state, created_at);

      create table referral_timeline (
        id uuid primary key,
        referral_id uuid not null references referral (id),
        at timestamptz not null,
        state text not null,
        event_type varchar(100) not null,
        summary varchar(500) not null
      );
      create index referral_timeline_referral_idx on referral_timeline (referral_id, at);
    `);
  }
}
