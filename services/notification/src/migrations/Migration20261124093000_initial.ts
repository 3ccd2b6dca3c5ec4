import { Migration } from '@mikro-orm/migrations';
import { MESSAGING_SCHEMA_V1 } from '@sonet/messaging';

export class Migration20261124093000_initial extends Migration {
  override name = 'Migration20261124093000_initial';

  override up(): void {
    this.addSql(MESSAGING_SCHEMA_V1);
    this.addSql(`
      create table notification (
        id uuid primary key,
        referral_id uuid not null,
        causation_event_id uuid not null,
        causation_event_type text not null,
        recipient_role text not null check (recipient_role in ('patient', 'gp', 'original-team', 'receiving-team')),
        channel text not null check (channel in ('email', 'sms', 'letter')),
        recipient_address text,
        template text not null,
        subject text not null,
        body_text text not null,
        status text not null check (status in ('pending', 'sent', 'failed', 'unsupported-channel', 'no-address')),
        attempts integer not null default 0 check (attempts >= 0),
        next_attempt_at timestamptz,
        last_error text,
        created_at timestamptz not null,
        sent_at timestamptz,
        failed_at timestamptz,
        traceparent varchar(55),
        -- exactly once per (event, recipient, template), whichever consumer group wrote it
        constraint notification_once_uq unique (causation_event_id, recipient_role, template),
        constraint notification_pending_has_due_time check (status <> 'pending' or next_attempt_at is not null)
      );
      create index notification_referral_idx on notification (referral_id);
      create index notification_due_idx on notification (next_attempt_at) where status = 'pending';
    `);
  }
}
