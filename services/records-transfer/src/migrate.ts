import { runMigrationsCli } from '@sonet/service-kit';
import { readRecordsTransferConfig } from './config';
import { recordsTransferOrmOptions } from './orm';

void runMigrationsCli('records-transfer', () => recordsTransferOrmOptions(readRecordsTransferConfig()));
