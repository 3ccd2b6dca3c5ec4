/**
 * Tables the messaging library needs in every service's database, as of version 1. A service's first
 * migration runs this; a later change to these tables is a new constant and a new migration, never an
 * edit here (migrations that already ran must stay as they were).
 */
export const MESSAGING_SCHEMA_V1 = `
create table if not exists outbox (
  seq bigserial primary key,
  id uuid not null unique,
  topic text not null,
  key text not null,
  event_type text not null,
  headers jsonb not null,
  value text not null,
  created_at timestamptz not null default now(),
  published_at timestamptz
);
create index if not exists outbox_unpublished_idx on outbox (seq) where published_at is null;

create table if not exists inbox (
  consumer text not null,
  event_id uuid not null,
  event_type text not null,
  topic text not null,
  partition integer not null,
  "offset" bigint not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
`;

/**
 * Version 2: the outbox says when rows are committed. A statement-level trigger notifies OUTBOX_CHANNEL
 * (libs/messaging/src/outbox/outbox-listener.ts); PostgreSQL delivers it only when the writing transaction
 * commits, so the relay, listening, publishes the row at once instead of on its next poll.
 */
export const MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN = `
create or replace function sonet_outbox_written() returns trigger language plpgsql as $$
begin
  perform pg_notify('sonet_outbox_written', '');
  return null;
end
$$;
drop trigger if exists outbox_written on outbox;
create trigger outbox_written after insert on outbox for each statement execute function sonet_outbox_written();
`;
