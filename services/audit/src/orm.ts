import { databaseSettings, ormOptions } from '@sonet/service-kit';
import type { AuditConfig } from './config';
import { auditEntities } from './domain/entities';
import { auditMigrations } from './migrations';

export const auditOrmOptions = (config: AuditConfig) => ormOptions(databaseSettings(config), auditEntities, auditMigrations);
