import { Migration } from '@mikro-orm/migrations';
import { MESSAGING_SCHEMA_V1 } from '@sonet/messaging';

/**
 * The append-only audit log. One row per CloudEvent, kept as received (attributes, trace headers, data).
 * A trigger refuses UPDATE, DELETE and TRUNCATE, so rows can only be added; the tamper-evidence issue builds
 * its hash chain on top of this guarantee instead of re-shaping the table.
 */
export class Migration20261124100000_initial extends Migration {
  override name = 'Migration20261124100000_initial';

  override up(): void {
    this.addSql(MESSAGING_SCHEMA_V1);
    this.addSql(`
      create table audit_entry (
        seq bigserial primary key,
        event_id uuid not null,
        event_type text not null,
        source text not null,
        subject uuid not null,
        event_time timestamptz not null,
        topic text not null,
        partition integer not null,
        kafka_offset bigint not null,
        headers jsonb not null,
        data jsonb not null,
        recorded_at timestamptz not null default clock_timestamp(),
        constraint audit_entry_event_id_key unique (event_id)
      );
      create index audit_entry_timeline_idx on audit_entry (subject, event_time, seq);
      create index audit_entry_type_idx on audit_entry (event_type, recorded_at);

      create function audit_entry_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_entry is append-only: % is not allowed', tg_op
          using errcode = 'insufficient_privilege';
      end;
      $$;
      create trigger audit_entry_no_update_or_delete
        before update or delete on audit_entry
        for each row execute function audit_entry_refuse_change();
      create trigger audit_entry_no_truncate
        before truncate on audit_entry
        for each statement execute function audit_entry_refuse_change();
      revoke update, delete, truncate on audit_entry from public;
    `);
  }
}
