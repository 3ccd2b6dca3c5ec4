import { Migration } from '@mikro-orm/migrations';

import { AUDIT_WRITER_ROLE, MATCHES_CANONICAL_BODY } from '../domain/schema-guards';

export { AUDIT_WRITER_ROLE, MATCHES_CANONICAL_BODY };

/** The service's role must exist before it is granted anything. */
const requireWriterRole = `
      do $$ begin
        if not exists (select from pg_roles where rolname = '${AUDIT_WRITER_ROLE}') then
          raise exception 'role ${AUDIT_WRITER_ROLE} is missing: create it (LOGIN, no other rights) before migrating (infra/local/postgres.sh does locally)';
        end if;
      end $$;
`;

/** The first version's entries stay in audit_entry_v0 until `migrate` appends them to the chain. */
const keepFirstVersion = `
      alter table audit_entry rename to audit_entry_v0;
      alter table audit_entry_v0 rename constraint audit_entry_pkey to audit_entry_v0_pkey;
      alter table audit_entry_v0 rename constraint audit_entry_event_id_key to audit_entry_v0_event_id_key;
      alter index audit_entry_timeline_idx rename to audit_entry_v0_timeline_idx;
      alter index audit_entry_type_idx rename to audit_entry_v0_type_idx;
`;

/** The functions the tables' checks and triggers call. */
const guardFunctions = `
      create function audit_refuse_change() returns trigger language plpgsql as $f$
      begin
        raise exception '% is append-only: % is not allowed', coalesce(tg_argv[0], tg_table_name), tg_op
          using errcode = 'insufficient_privilege';
      end;
      $f$;

      -- ce_time and recordedAt carry their zone (Z), so reading them does not depend on the session's time zone.
      create function audit_instant(text) returns timestamptz language sql immutable strict parallel safe
        as $f$ select $1::timestamptz $f$;

      -- One parse of the canonical text per row; every query column must say what the hashed text says.
      create function audit_entry_matches_canonical(
        canonical text, seq bigint, recorded_at timestamptz, event_id uuid, event_type text, subject uuid,
        event_time timestamptz, actor text, organisations text[], patient_key text
      ) returns boolean language plpgsql immutable parallel safe as $f$
${MATCHES_CANONICAL_BODY}      $f$;
`;

/** The hash-chained log, partitioned by recording month, and its query indexes. */
const chainTable = `
      create table audit_entry (
        seq bigint not null,
        recorded_at timestamptz not null,
        event_id uuid not null,
        event_type text not null,
        subject uuid not null,
        event_time timestamptz not null,
        actor text,
        organisations text[] not null,
        patient_key text,
        canonical text not null,
        prev_hash bytea not null check (octet_length(prev_hash) = 32),
        hash bytea not null check (octet_length(hash) = 32),
        constraint audit_entry_chain_pk primary key (recorded_at, seq),
        constraint audit_entry_matches_canonical check (
          audit_entry_matches_canonical(canonical, seq, recorded_at, event_id, event_type, subject, event_time, actor, organisations, patient_key))
      ) partition by range (recorded_at);
      create index audit_entry_subject_time_idx on audit_entry (subject, event_time, seq);
      create index audit_entry_type_seq_idx on audit_entry (event_type, seq);
      create index audit_entry_actor_seq_idx on audit_entry (actor, seq) where actor is not null;
      create index audit_entry_organisations_idx on audit_entry using gin (organisations);
      create index audit_entry_patient_idx on audit_entry (patient_key) where patient_key is not null;
`;

/** Event-id uniqueness (a partitioned table cannot have it without its partition key) and signed checkpoints. */
const eventIdsAndCheckpoints = `
      create table audit_event_id (
        event_id uuid primary key,
        seq bigint not null,
        recorded_at timestamptz not null
      );

      create table audit_checkpoint (
        chain text not null,
        seq bigint not null,
        head bytea not null check (octet_length(head) = 32),
        signed_at timestamptz not null,
        key_id text not null,
        signature bytea not null,
        kind text not null check (kind in ('periodic', 'on-demand', 'retention-anchor')),
        -- where the entry lives (its partition), so proofs read a range of one or two partitions
        entry_recorded_at timestamptz not null,
        primary key (chain, seq)
      );
`;

/** Append-only: UPDATE, DELETE and TRUNCATE are refused, even to the owner. */
const appendOnlyTriggers = `
      create trigger audit_entry_no_update_or_delete before update or delete on audit_entry
        for each row execute function audit_refuse_change('audit_entry');
      create trigger audit_entry_no_truncate before truncate on audit_entry
        for each statement execute function audit_refuse_change('audit_entry');
      create trigger audit_event_id_no_update_or_delete before update or delete on audit_event_id
        for each row execute function audit_refuse_change('audit_event_id');
      create trigger audit_event_id_no_truncate before truncate on audit_event_id
        for each statement execute function audit_refuse_change('audit_event_id');
      create trigger audit_checkpoint_no_update_or_delete before update or delete on audit_checkpoint
        for each row execute function audit_refuse_change('audit_checkpoint');
      create trigger audit_checkpoint_no_truncate before truncate on audit_checkpoint
        for each statement execute function audit_refuse_change('audit_checkpoint');
`;

/** The partition of a recording month, made on demand; this month's and the next. */
const monthlyPartitions = `
      -- Creates the partition of a recording month (and its TRUNCATE guard) when missing. SECURITY DEFINER:
      -- the service's role has no DDL rights of its own; this is the one thing it may ask the owner to do.
      create function audit_ensure_partition(at timestamptz) returns text
        language plpgsql security definer set search_path = public, pg_temp as $f$
      declare
        m timestamp := date_trunc('month', at at time zone 'UTC');
        part text := 'audit_entry_p' || to_char(m, 'YYYY_MM');
      begin
        if to_regclass(part) is null then
          perform pg_advisory_xact_lock(hashtext('audit_ensure_partition'));
          if to_regclass(part) is null then
            execute format('create table %I partition of audit_entry for values from (%L) to (%L)',
              part, m at time zone 'UTC', (m + interval '1 month') at time zone 'UTC');
            execute format('create trigger audit_entry_no_truncate before truncate on %I for each statement execute function audit_refuse_change(%L)',
              part, 'audit_entry');
          end if;
        end if;
        return part;
      end;
      $f$;
      select audit_ensure_partition(now());
      select audit_ensure_partition(now() + interval '1 month');
`;

/** The service's role may only SELECT and INSERT (plus the messaging tables). */
const writerRights = `
      revoke all on audit_entry, audit_event_id, audit_checkpoint, audit_entry_v0 from public;
      revoke all on function audit_ensure_partition(timestamptz) from public;
      grant select, insert on audit_entry, audit_event_id, audit_checkpoint to ${AUDIT_WRITER_ROLE};
      grant execute on function audit_ensure_partition(timestamptz) to ${AUDIT_WRITER_ROLE};
      -- messaging: the inbox is insert-only too; the outbox relay marks rows published.
      grant select, insert on inbox to ${AUDIT_WRITER_ROLE};
      grant select, insert, update on outbox to ${AUDIT_WRITER_ROLE};
      grant usage on sequence outbox_seq_seq to ${AUDIT_WRITER_ROLE};
`;

/**
 * The tamper-evident log (ADR 0006): a hash-chained, append-only `audit_entry`, partitioned by recording month;
 * event-id uniqueness in `audit_event_id` (a partitioned table cannot have a unique index without its partition
 * key); signed checkpoints in `audit_checkpoint`. Every query column is held to the hashed canonical text by a
 * check constraint, so no column can say something the chain does not. The service's role may only SELECT and
 * INSERT (plus the messaging tables), and triggers refuse UPDATE, DELETE and TRUNCATE, even to the owner.
 * The entries of the first version are kept in `audit_entry_v0` until `migrate` appends them to the chain.
 */
export class Migration20261125100000_hash_chain extends Migration {
  override name = 'Migration20261125100000_hash_chain';

  /** The steps in order, in the migration's one transaction; the SQL is as first applied, only cut into named steps. */
  override up(): void {
    for (const step of [
      requireWriterRole,
      keepFirstVersion,
      guardFunctions,
      chainTable,
      eventIdsAndCheckpoints,
      appendOnlyTriggers,
      monthlyPartitions,
      writerRights,
    ]) {
      this.addSql(step);
    }
  }
}
