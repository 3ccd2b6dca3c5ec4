import { Migration } from '@mikro-orm/migrations';

/** Records move for real: the manifest (items, instances of imaging series, gaps) and the transfer's progress. */
export class Migration20261130120000_records extends Migration {
  override name = 'Migration20261130120000_records';

  override up(): void {
    this.addSql(`
      alter table transfer_request drop constraint if exists transfer_request_status_check;
      alter table transfer_request add constraint transfer_request_status_check check (status in
        ('awaiting-target', 'ready', 'discovering', 'review', 'sending', 'in-progress', 'completed', 'failed', 'refused', 'cancelled'));
      alter table transfer_request alter column lawful_basis drop not null;
      alter table transfer_request alter column consent_recorded_at drop not null;
      alter table transfer_request
        add column nhs_number varchar(10),
        add column specialty varchar(100),
        add column source_team_id varchar(40),
        add column target_team_id varchar(40),
        add column referring_practice varchar(10),
        add column reason text,
        add column discovered_at timestamptz,
        add column sending_at timestamptz,
        add column finished_at timestamptz,
        add column retries int not null default 0,
        add column manifest_version int not null default 0;
      create index transfer_request_status_idx on transfer_request (status, received_at desc);

      create table transfer_item (
        id uuid primary key,
        transfer_id uuid not null references transfer_request (id),
        position int not null,
        kind text not null check (kind in ('document', 'diagnostic-report', 'imaging-study')),
        source_reference varchar(300) not null,
        title varchar(300) not null,
        media_type varchar(100) not null,
        size bigint,
        sha256 varchar(64),
        record_date timestamptz,
        relevant boolean not null,
        relevance varchar(200) not null,
        reviewed_by varchar(200),
        status text not null check (status in ('pending', 'excluded', 'sending', 'sent', 'acknowledged', 'refused', 'missing')),
        target_reference varchar(300),
        instance_count int,
        digest_mismatches int not null default 0,
        attempts int not null default 0,
        reason text,
        detail jsonb not null default '{}',
        sent_at timestamptz,
        acknowledged_at timestamptz,
        unique (transfer_id, source_reference)
      );
      create index transfer_item_transfer_idx on transfer_item (transfer_id, position);

      create table transfer_instance (
        item_id uuid not null references transfer_item (id),
        sop_instance_uid varchar(64) not null,
        series_instance_uid varchar(64) not null,
        position int not null,
        size bigint,
        sha256 varchar(64),
        status text not null check (status in ('pending', 'sent', 'acknowledged')),
        digest_mismatches int not null default 0,
        sent_at timestamptz,
        acknowledged_at timestamptz,
        primary key (item_id, sop_instance_uid)
      );

      create table transfer_gap (
        transfer_id uuid not null references transfer_request (id),
        reference varchar(300) not null,
        referenced_by varchar(300) not null,
        kind text not null check (kind in ('imaging-study', 'imaging-series', 'attachment')),
        reason varchar(300) not null,
        detected_at timestamptz not null,
        primary key (transfer_id, reference)
      );
    `);
  }
}
