import { Migration } from '@mikro-orm/migrations';
import { IDEMPOTENCY_SCHEMA_V1 } from '@sonet/service-kit';

/** Idempotency-Key of the service's POSTs (every service takes it; ServiceKitModule installs it): kept 24 hours. */
export class Migration20261201120000_idempotency extends Migration {
  override name = 'Migration20261201120000_idempotency';

  override up(): void {
    this.addSql(IDEMPOTENCY_SCHEMA_V1);
  }
}
