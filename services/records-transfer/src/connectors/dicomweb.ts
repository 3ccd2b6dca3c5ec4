import type { EndpointConfig } from './config';
import type { Readable } from 'node:stream';
import { Endpoint, jsonOf, PermanentHttpError, TransientHttpError, type EndpointResponse } from './http';

/** A DICOM JSON dataset (PS3.18 F.2): tag → { vr, Value }. */
export type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

export const Tag = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  Modality: '00080060',
  StudyDescription: '00081030',
  NumberOfStudyRelatedInstances: '00201208',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
} as const;

export const dicomString = (d: DicomJson | undefined, tag: string): string | undefined => {
  const v = d?.[tag]?.Value?.[0];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
};

/** What WADO-RS is asked for: the stored files, byte for byte (no transcoding). */
export const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const DICOM_JSON = 'application/dicom+json';
const PAGE = 1000;

/** DICOMweb (QIDO-RS, WADO-RS, STOW-RS) at one trust's PACS (Orthanc locally; any DICOMweb PACS in a deployment). */
export class DicomWebConnector {
  private readonly endpoint: Endpoint;

  constructor(config: EndpointConfig) {
    this.endpoint = new Endpoint(config);
  }

  async studiesOfPatient(patientId: string, signal?: AbortSignal): Promise<DicomJson[]> {
    return this.qido(
      `studies?PatientID=${encodeURIComponent(patientId)}&includefield=${Tag.StudyDescription}&includefield=${Tag.NumberOfStudyRelatedInstances}`,
      signal,
    );
  }

  async study(studyUid: string, signal?: AbortSignal): Promise<DicomJson | null> {
    return (await this.qido(`studies?StudyInstanceUID=${encodeURIComponent(studyUid)}`, signal))[0] ?? null;
  }

  /** Every instance of a study with its series (QIDO-RS, paged). */
  async instancesOfStudy(studyUid: string, signal?: AbortSignal): Promise<{ seriesUid: string; sopInstanceUid: string }[]> {
    const out: { seriesUid: string; sopInstanceUid: string }[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.qido(
        `studies/${encodeURIComponent(studyUid)}/instances?limit=${PAGE}&offset=${offset}&includefield=${Tag.SeriesInstanceUID}`,
        signal,
      );
      for (const d of page) {
        const seriesUid = dicomString(d, Tag.SeriesInstanceUID);
        const sopInstanceUid = dicomString(d, Tag.SOPInstanceUID);
        if (!seriesUid || !sopInstanceUid) throw new PermanentHttpError('QIDO-RS instance without its UIDs');
        out.push({ seriesUid, sopInstanceUid });
      }
      if (page.length < PAGE) return out;
    }
  }

  /** One instance as WADO-RS sends it: a multipart/related body holding the stored DICOM file (null: not there). */
  async retrieveInstance(studyUid: string, seriesUid: string, sopUid: string, signal?: AbortSignal): Promise<EndpointResponse | null> {
    const res = await this.endpoint.fetch(`studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`, {
      headers: { accept: WADO_ACCEPT },
      signal,
      accept: [404],
    });
    if (res.status === 404) {
      await res.body.dump();
      return null;
    }
    return res;
  }

  /** STOW-RS of a multipart/related body; throws when the PACS reports any instance as failed. */
  async store(contentType: string, body: Readable, signal?: AbortSignal): Promise<{ stored: number }> {
    const res = await this.endpoint.fetch('studies', {
      method: 'POST',
      headers: { 'content-type': contentType, accept: DICOM_JSON },
      body,
      signal,
    });
    const answer = await jsonOf<DicomJson>(res, 'STOW-RS');
    const failed = answer[Tag.FailedSOPSequence]?.Value ?? [];
    if (failed.length > 0) throw new PermanentHttpError(`STOW-RS: the PACS refused ${failed.length} instance(s)`, res.status);
    return { stored: (answer[Tag.ReferencedSOPSequence]?.Value ?? []).length };
  }

  private async qido(path: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const res = await this.endpoint.fetch(path, { headers: { accept: DICOM_JSON }, signal, accept: [204] });
    if (res.status === 204) {
      await res.body.dump();
      return [];
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      throw new TransientHttpError('QIDO-RS: the answer was cut off', res.status, { cause: e });
    }
    if (text.trim() === '') return [];
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed)) throw new Error('not an array');
      return parsed as DicomJson[];
    } catch {
      throw new PermanentHttpError('QIDO-RS: the answer is not a DICOM JSON array', res.status);
    }
  }
}
