import { Migration20261124093000_initial } from './Migration20261124093000_initial';

export const notificationMigrations = [Migration20261124093000_initial];
