/**
 * SNOMED CT "practice setting" / specialty codes, by the specialty names the referral directory uses. A record is
 * of a specialty when a coding in its practice setting (DocumentReference) or category (DiagnosticReport) has one of
 * these codes, or a display text that names the specialty.
 */
export const SNOMED = 'http://snomed.info/sct';

export const SPECIALTY_CODES: Readonly<Record<string, readonly string[]>> = {
  cardiology: ['394579002'],
  oncology: ['394593009', '394592004'],
  rheumatology: ['394810000'],
  respiratory: ['418112009', '394856006'],
  dermatology: ['394582007'],
  neurology: ['394591006'],
  gastroenterology: ['394584008'],
  orthopaedics: ['394801008'],
  endocrinology: ['394583002'],
  nephrology: ['394589003'],
  haematology: ['394803006'],
  urology: ['394612005'],
};

interface Coding {
  readonly system?: string;
  readonly code?: string;
  readonly display?: string;
}
interface CodeableConcept {
  readonly coding?: readonly Coding[];
  readonly text?: string;
}

/** Whether any of the concepts names the specialty (by SNOMED code, or by name in a display text). */
export function conceptsNameSpecialty(concepts: readonly (CodeableConcept | undefined)[], specialty: string): boolean {
  const name = specialty.trim().toLowerCase();
  const codes = SPECIALTY_CODES[name] ?? [];
  return concepts.some(
    (c) =>
      c?.text?.toLowerCase().includes(name) ||
      (c?.coding ?? []).some(
        (k) => (k.system === SNOMED && k.code != null && codes.includes(k.code)) || (k.display ?? '').toLowerCase().includes(name),
      ),
  );
}

/** Whether the concepts carry any specialty at all (a record with none cannot be judged by specialty). */
export function conceptsNameAnySpecialty(concepts: readonly (CodeableConcept | undefined)[]): boolean {
  const all = new Set(Object.values(SPECIALTY_CODES).flat());
  return concepts.some((c) => (c?.coding ?? []).some((k) => k.system === SNOMED && k.code != null && all.has(k.code)));
}
