import { Migration20261124091000_initial } from './Migration20261124091000_initial';

export const recordsTransferMigrations = [Migration20261124091000_initial];
