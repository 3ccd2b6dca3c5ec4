import { organisationCovers } from '@sonet/auth';
import type { ConnectorsConfig, TrustConnectorConfig } from './config';
import { DicomWebConnector } from './dicomweb';
import { FhirConnector } from './fhir';

/** One trust's systems as records-transfer reaches them. */
export interface TrustSystems {
  readonly config: TrustConnectorConfig;
  readonly ehr: FhirConnector;
  readonly pacs: DicomWebConnector;
}

export class UnknownOrganisationError extends Error {
  override name = 'UnknownOrganisationError';
}

/** The configured trusts' connectors, looked up by an organisation's ODS code (a site finds its trust). */
export class HospitalConnectors {
  private readonly trusts: TrustSystems[];

  constructor(config: ConnectorsConfig) {
    this.trusts = config.trusts.map((t) => ({ config: t, ehr: new FhirConnector(t.fhir), pacs: new DicomWebConnector(t.dicomweb) }));
  }

  for(ods: string): TrustSystems {
    const t = this.trusts.find((x) => x.config.ods === ods) ?? this.trusts.find((x) => organisationCovers(x.config.ods, ods));
    if (!t) throw new UnknownOrganisationError(`no hospital systems are configured for organisation ${ods}`);
    return t;
  }
}
