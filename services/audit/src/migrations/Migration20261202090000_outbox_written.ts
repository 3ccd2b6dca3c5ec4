import { Migration } from '@mikro-orm/migrations';
import { MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN } from '@sonet/messaging';

/** The outbox notifies its relay on commit (libs/messaging schema version 2). */
export class Migration20261202090000_outbox_written extends Migration {
  override name = 'Migration20261202090000_outbox_written';

  override up(): void {
    this.addSql(MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN);
  }
}
