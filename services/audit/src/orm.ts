import { databaseSettings, ormOptions } from '@sonet/service-kit';
import type { AuditConfig } from './config';
import { auditMigrations } from './migrations';

/** The running service: as the writer role (SELECT and INSERT on the log). Rows are read and written with SQL, no entities. */
export const auditOrmOptions = (config: AuditConfig) => ormOptions(databaseSettings(config), [], auditMigrations);

/** Migrations and retention runs: as the schema's owner. */
export const auditOwnerOrmOptions = (config: AuditConfig) =>
  ormOptions(databaseSettings({ ...config, PGUSER: config.PGOWNER_USER, PGPASSWORD: config.PGOWNER_PASSWORD }), [], auditMigrations);
