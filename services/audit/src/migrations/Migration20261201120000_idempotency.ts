import { Migration } from '@mikro-orm/migrations';
import { IDEMPOTENCY_SCHEMA_V1 } from '@sonet/service-kit';
import { AUDIT_WRITER_ROLE } from '../domain/schema-guards';

/**
 * Idempotency-Key of the service's POSTs (the patient search): the first answer of each (caller, key), kept 24
 * hours. Not part of the log: the writer role may update and delete here (a key completes, then expires).
 */
export class Migration20261201120000_idempotency extends Migration {
  override name = 'Migration20261201120000_idempotency';

  override up(): void {
    this.addSql(IDEMPOTENCY_SCHEMA_V1);
    this.addSql(
      `revoke all on idempotency_key from public; grant select, insert, update, delete on idempotency_key to ${AUDIT_WRITER_ROLE};`,
    );
  }
}
