import { Migration } from '@mikro-orm/migrations';

/**
 * SMS and letters through GOV.UK Notify (issue 11): the patient's mobile, address and ordered preferences in the
 * contact projection; per notification the channels left to fall back to, the text message version and delivery;
 * one attempt row per channel tried (receipts find it by Notify's id); the shared Notify rate limiter's windows.
 */
export class Migration20261201120000_notify_channels extends Migration {
  override name = 'Migration20261201120000_notify_channels';

  override up(): void {
    this.addSql(`
      alter table referral_contact
        add column patient_address jsonb,
        add column patient_contact_preferences jsonb;

      alter table notification
        add column fallbacks jsonb not null default '[]',
        add column route_step integer not null default 1,
        add column sms_text text,
        add column delivered_at timestamptz,
        drop constraint notification_status_check,
        add constraint notification_status_check check (status in ('pending', 'sent', 'delivered', 'permanent-failure',
          'temporary-failure', 'technical-failure', 'failed', 'unsupported-channel', 'no-address'));
      create index notification_unreached_idx on notification (created_at)
        where status in ('permanent-failure', 'temporary-failure', 'technical-failure', 'failed', 'unsupported-channel', 'no-address');

      create table notification_attempt (
        id uuid primary key,
        notification_id uuid not null references notification (id),
        route_step integer not null check (route_step >= 1),
        channel text not null check (channel in ('email', 'sms', 'letter')),
        provider varchar(16),
        provider_id uuid unique,
        status text not null check (status in ('sending', 'sent', 'delivered', 'permanent-failure', 'temporary-failure',
          'technical-failure', 'failed', 'no-address')),
        reason text,
        tries integer not null default 0,
        started_at timestamptz not null,
        updated_at timestamptz not null,
        completed_at timestamptz,
        constraint notification_attempt_step_uq unique (notification_id, route_step)
      );

      -- One row per (limiter bucket): the current fixed window and how much of it is used. Shared by every replica.
      create table notify_rate_window (
        bucket text primary key,
        window_start timestamptz not null,
        used integer not null
      );

      -- Receipts that named no notification of ours: counted, never retried.
      create table notify_unknown_receipt (
        provider_id uuid primary key,
        received_at timestamptz not null,
        times integer not null default 1
      );
    `);
  }
}
