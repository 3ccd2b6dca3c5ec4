import { Migration } from '@mikro-orm/migrations';
import { MESSAGING_SCHEMA_V1 } from '@sonet/messaging';

export class Migration20261124091000_initial extends Migration {
  override name = 'Migration20261124091000_initial';

  override up(): void {
    this.addSql(MESSAGING_SCHEMA_V1);
    this.addSql(`
      create table transfer_request (
        id uuid primary key,
        referral_id uuid not null,
        source_organisation varchar(10) not null,
        target_organisation varchar(10),
        document_kinds text[] not null,
        lawful_basis varchar(40) not null,
        consent_recorded_at timestamptz not null,
        status text not null check (status in ('awaiting-target', 'ready', 'in-progress', 'completed', 'failed', 'cancelled')),
        requested_at timestamptz not null,
        received_at timestamptz not null,
        causation_event_id uuid not null
      );
      create index transfer_request_referral_idx on transfer_request (referral_id);
    `);
  }
}
