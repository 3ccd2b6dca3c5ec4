import { Migration20261124100000_initial } from './Migration20261124100000_initial';

export const auditMigrations = [Migration20261124100000_initial];
