import { databaseSettings, ormOptions } from '@sonet/service-kit';
import type { RecordsTransferConfig } from './config';
import { recordsTransferEntities } from './domain/entities';
import { recordsTransferMigrations } from './migrations';

export const recordsTransferOrmOptions = (config: RecordsTransferConfig) =>
  ormOptions(databaseSettings(config), recordsTransferEntities, recordsTransferMigrations);
