import { Migration20261124090000_initial } from './Migration20261124090000_initial';

/** Every migration of this service, in order. Listed explicitly so the compiled service finds them without globbing. */
export const referralMigrations = [Migration20261124090000_initial];
