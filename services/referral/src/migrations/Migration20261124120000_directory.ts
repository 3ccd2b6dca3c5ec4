import { Migration } from '@mikro-orm/migrations';

/** The directory of organisations and clinical teams (docs/domain.md#ods-codes; rule 7: location and wait). */
export class Migration20261124120000_directory extends Migration {
  override name = 'Migration20261124120000_directory';

  override up(): void {
    this.addSql(`
      create table organisation (
        ods varchar(10) primary key,
        name varchar(200) not null,
        kind text not null check (kind in ('trust', 'site', 'gp-practice')),
        parent_ods varchar(10) references organisation (ods),
        postcode varchar(10) not null,
        lat double precision not null check (lat between -90 and 90),
        lon double precision not null check (lon between -180 and 180),
        contact_email varchar(320)
      );
      create index organisation_kind_idx on organisation (kind);

      create table clinical_team (
        id text primary key,
        site_ods varchar(10) not null references organisation (ods),
        name varchar(200) not null,
        specialty varchar(100) not null,
        contact_email varchar(320) not null,
        current_wait_weeks integer not null check (current_wait_weeks >= 0),
        accepts_second_opinions boolean not null default true
      );
      create index clinical_team_specialty_idx on clinical_team (specialty);
      create index clinical_team_site_idx on clinical_team (site_ods);
    `);
  }
}
