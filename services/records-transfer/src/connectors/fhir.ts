import type { EndpointConfig } from './config';
import type { Readable } from 'node:stream';
import { Endpoint, jsonOf, PermanentHttpError, type EndpointResponse, type RequestOptions } from './http';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** Identifier system of what records-transfer files at a target: `<source ODS>/<type>/<id>`, so a retry finds it. */
export const SOURCE_ITEM_SYSTEM = 'https://sonet.example/Id/records-transfer-source';

export interface FhirResource {
  readonly resourceType: string;
  readonly id?: string;
  readonly [key: string]: unknown;
}

interface Bundle {
  readonly resourceType: 'Bundle';
  readonly entry?: readonly { resource?: FhirResource; response?: { status?: string; location?: string } }[];
  readonly link?: readonly { relation: string; url: string }[];
}

const FHIR_JSON = 'application/fhir+json';

/** FHIR R4 REST at one trust's EHR (a HAPI FHIR partition locally; any R4 server in a deployment). */
export class FhirConnector {
  private readonly endpoint: Endpoint;

  constructor(config: EndpointConfig) {
    this.endpoint = new Endpoint(config);
  }

  /** Every resource of a type for a patient, by NHS number (a chained search), following the server's paging. */
  async searchByPatient(resourceType: string, nhsNumber: string, signal?: AbortSignal): Promise<FhirResource[]> {
    const query = `patient.identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`)}&_count=100`;
    return this.searchAll(`${resourceType}?${query}`, resourceType, signal);
  }

  async findPatient(nhsNumber: string, signal?: AbortSignal): Promise<FhirResource | null> {
    const found = await this.searchAll(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`)}`, 'Patient', signal);
    return found[0] ?? null;
  }

  /** A resource by relative reference (`Type/id`), or null when the server has none. */
  async read(reference: string, signal?: AbortSignal): Promise<FhirResource | null> {
    const res = await this.endpoint.fetch(reference, { headers: { accept: FHIR_JSON }, signal, accept: [404, 410] });
    if (res.status === 404 || res.status === 410) {
      await res.body.dump();
      return null;
    }
    return jsonOf<FhirResource>(res, `read ${reference.split('/')[0]}`);
  }

  /** A Binary's raw bytes as a stream (never parsed), or null when it does not exist. */
  async openBinary(reference: string, contentType: string, signal?: AbortSignal): Promise<EndpointResponse | null> {
    const res = await this.endpoint.fetch(reference, { headers: { accept: contentType }, signal, accept: [404, 410] });
    if (res.status === 404 || res.status === 410) {
      await res.body.dump();
      return null;
    }
    return res;
  }

  /** Stores raw bytes as `Binary/<id>` (PUT: a retry overwrites the same resource, never adds one). */
  async putBinary(id: string, contentType: string, body: Readable, signal?: AbortSignal): Promise<void> {
    const res = await this.endpoint.fetch(`Binary/${id}`, {
      method: 'PUT',
      headers: { 'content-type': contentType, accept: FHIR_JSON },
      body,
      signal,
    });
    await res.body.dump();
  }

  /** A transaction Bundle (conditional creates with `ifNoneExist`): all or nothing, and idempotent. */
  async transaction(entries: readonly TransactionEntry[], signal?: AbortSignal): Promise<{ status: string; location?: string }[]> {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: entries.map((e) => ({
        fullUrl: e.fullUrl,
        resource: e.resource,
        request: { method: 'POST', url: e.resource.resourceType, ifNoneExist: e.ifNoneExist },
      })),
    };
    const res = await this.endpoint.fetch('', {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON },
      body: JSON.stringify(bundle),
      signal,
    });
    const answer = await jsonOf<Bundle>(res, 'transaction');
    return (answer.entry ?? []).map((e) => ({
      status: e.response?.status ?? '',
      ...(e.response?.location ? { location: e.response.location } : {}),
    }));
  }

  private async searchAll(first: string, resourceType: string, signal?: AbortSignal): Promise<FhirResource[]> {
    const out: FhirResource[] = [];
    let next: string | null = first;
    for (let page = 0; next; page++) {
      if (page > 1000) throw new PermanentHttpError(`search ${resourceType}: more than 1000 pages`);
      const options: RequestOptions = { headers: { accept: FHIR_JSON }, signal };
      const bundle: Bundle = await jsonOf<Bundle>(await this.endpoint.fetch(next, options), `search ${resourceType}`);
      for (const e of bundle.entry ?? []) if (e.resource?.resourceType === resourceType) out.push(e.resource);
      const link = bundle.link?.find((l) => l.relation === 'next')?.url;
      next = link ? this.throughOurBase(link) : null;
    }
    return out;
  }

  /**
   * A server's paging link names the server's own address; we keep to the configured base (a proxy or gateway
   * in front of the EHR) and take only the query from it.
   */
  private throughOurBase(link: string): string {
    const u = new URL(link);
    const baseUrl = this.endpoint.config.baseUrl;
    const base = new URL(baseUrl);
    return u.pathname.replace(/\/+$/, '') === base.pathname.replace(/\/+$/, '')
      ? `${baseUrl}${u.search}`
      : `${baseUrl}${u.pathname.slice(base.pathname.length)}${u.search}`;
  }
}

export interface TransactionEntry {
  readonly fullUrl: string;
  readonly resource: FhirResource;
  /** The search that finds this resource if it is already there (e.g. `identifier=system|value`). */
  readonly ifNoneExist: string;
}
