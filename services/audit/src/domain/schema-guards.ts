// What the hash-chain migration installs and verification checks is still installed (kept apart from the
// migration so the verifier loads without MikroORM).

/**
 * Body of audit_entry_matches_canonical: verification compares the installed function with it, so the check
 * cannot be quietly replaced by one that accepts anything.
 */
export const MATCHES_CANONICAL_BODY = `
      declare
        d jsonb := canonical::jsonb;
        e jsonb := d->'event';
        i jsonb := d->'index';
      begin
        return d->>'format' = 'sonet.audit.entry/1'
          and (d->>'seq')::bigint = seq
          and audit_instant(d->>'recordedAt') = recorded_at
          and (e->>'id')::uuid = event_id
          and e->>'type' = event_type
          and (e->>'subject')::uuid = subject
          and audit_instant(e->>'time') = event_time
          and (i->>'actor') is not distinct from actor
          and array(select jsonb_array_elements_text(i->'organisations')) = organisations
          and (i->>'patientKey') is not distinct from patient_key;
      end;
`;

/** The role the service connects as: it may read and add, never change, remove or redefine. */
export const AUDIT_WRITER_ROLE = 'audit_writer';
