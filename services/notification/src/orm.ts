import { databaseSettings, ormOptions } from '@sonet/service-kit';
import type { NotificationConfig } from './config';
import { notificationEntities } from './domain/entities';
import { notificationMigrations } from './migrations';

export const notificationOrmOptions = (config: NotificationConfig) =>
  ormOptions(databaseSettings(config), notificationEntities, notificationMigrations);
