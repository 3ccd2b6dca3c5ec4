import { organisationCovers, type Principal } from '@sonet/auth';
import type { TransferRequest } from './entities';

/**
 * Who may see a transfer and its manifest: operations and auditors; a clinical team of the sending or receiving
 * organisation (a trust covers its sites); a GP of the referring practice. Nobody else learns it exists (404).
 */
export function maySeeTransfer(
  principal: Principal,
  t: Pick<TransferRequest, 'sourceOrganisation' | 'targetOrganisation' | 'referringPractice'>,
): boolean {
  switch (principal.role) {
    case 'ops':
    case 'auditor':
      return true;
    case 'clinician':
      return (
        organisationCovers(principal.organisation, t.sourceOrganisation) ||
        (t.targetOrganisation != null && organisationCovers(principal.organisation, t.targetOrganisation))
      );
    case 'gp':
      return t.referringPractice != null && principal.organisation === t.referringPractice;
    default:
      return false;
  }
}

/** Only the referring practice's GPs review the manifest (rule 4: the GP decides what is relevant to send). */
export const mayReviewManifest = (principal: Principal, t: Pick<TransferRequest, 'referringPractice'>): boolean =>
  principal.role === 'gp' && t.referringPractice != null && principal.organisation === t.referringPractice;
