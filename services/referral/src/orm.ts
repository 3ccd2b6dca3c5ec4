import { ormOptions, databaseSettings } from '@sonet/service-kit';
import type { ReferralConfig } from './config';
import { referralEntities } from './domain/entities';
import { directoryEntities } from './directory/entities';
import { referralMigrations } from './migrations';

export const referralOrmOptions = (config: ReferralConfig) =>
  ormOptions(databaseSettings(config), [...referralEntities, ...directoryEntities], referralMigrations);
