import { runMigrationsCli } from '@sonet/service-kit';
import { readAuditConfig } from './config';
import { auditOrmOptions } from './orm';

void runMigrationsCli('audit', () => auditOrmOptions(readAuditConfig()));
