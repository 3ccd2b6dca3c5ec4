import { runMigrationsCli } from '@sonet/service-kit';
import { readNotificationConfig } from './config';
import { notificationOrmOptions } from './orm';

void runMigrationsCli('notification', () => notificationOrmOptions(readNotificationConfig()));
