import { Migration } from '@mikro-orm/migrations';
import { OPERATIONS_WATCH_SCHEMA_V1 } from '../operations/operations-watch';

/** What the stuck list reads besides the referrals: activities that keep failing, notifications given up on (ADR 15). */
export class Migration20261201150000_operations_watch extends Migration {
  override name = 'Migration20261201150000_operations_watch';

  override up(): void {
    this.addSql(OPERATIONS_WATCH_SCHEMA_V1);
  }
}
