import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { recordAccess, type AccessingPrincipal } from '@sonet/messaging';
import { nativeQuery } from '@sonet/service-kit';
import { AuditLog } from '../domain/audit-log';
import { entryDigest } from '../domain/chain';
import { CheckpointSigner, type Checkpoint } from '../domain/checkpoint';
import { checkpointsOf } from '../domain/checkpoint-store';
import { sealPack, type EvidenceEntry, type EvidencePack, type ProofSegment } from '../domain/evidence';

interface PackRow {
  seq: string;
  canonical: string;
  hash: string;
  prev_hash: string;
  recorded_at: Date | string;
}

/**
 * A referral's evidence pack: its entries (canonical text and hash) and the proof that they are in the chain,
 * up to signed checkpoints. Entries after the last checkpoint get one first (signed now), so every entry is
 * covered. The pack is sealed over its entry list. Exporting is recorded as an access to the referral.
 */
@Injectable()
export class ExportEvidenceHandler {
  constructor(
    private readonly em: EntityManager,
    private readonly auditLog: AuditLog,
    @Inject(CheckpointSigner) private readonly signer: CheckpointSigner,
  ) {}

  async execute(referralId: string, principal: AccessingPrincipal): Promise<EvidencePack> {
    const em = this.em.fork();
    const rows = await nativeQuery<PackRow>(
      em,
      `select seq::text as seq, canonical, encode(hash, 'hex') as hash, encode(prev_hash, 'hex') as prev_hash, recorded_at
       from audit_entry where subject = $1::uuid order by audit_entry.seq`,
      [referralId],
    );
    const proof: ProofSegment[] = [];
    if (rows.length > 0) {
      const last = BigInt(rows[rows.length - 1]!.seq);
      let checkpoints = await checkpointsOf(em, this.auditLog.chain, 'and seq >= $2', [rows[0]!.seq]);
      if (!checkpoints.some((c) => BigInt(c.checkpoint.seq) >= last)) {
        await em.transactional((tem) => this.auditLog.checkpointHead(tem, 'on-demand'));
        checkpoints = await checkpointsOf(em, this.auditLog.chain, 'and seq >= $2', [rows[0]!.seq]);
      }
      // Group the entries by the first checkpoint at or after each; one segment per group.
      const groups = new Map<string, { cp: { checkpoint: Checkpoint; entryRecordedAt: Date }; first: PackRow }>();
      let ci = 0;
      for (const row of rows) {
        while (ci < checkpoints.length && BigInt(checkpoints[ci]!.checkpoint.seq) < BigInt(row.seq)) ci++;
        const cp = checkpoints[ci];
        if (!cp) throw new Error(`no checkpoint covers entry ${row.seq}`);
        if (!groups.has(cp.checkpoint.seq)) groups.set(cp.checkpoint.seq, { cp, first: row });
      }
      for (const { cp, first } of groups.values()) {
        const between = await nativeQuery<{ seq: string; canonical: string }>(
          em,
          `select seq::text as seq, canonical from audit_entry
           where recorded_at between $1::timestamptz and $2::timestamptz and seq between $3::bigint and $4::bigint
           order by recorded_at, audit_entry.seq`,
          [new Date(first.recorded_at), cp.entryRecordedAt, first.seq, cp.checkpoint.seq],
        );
        proof.push({
          fromSeq: first.seq,
          toSeq: cp.checkpoint.seq,
          prevHash: first.prev_hash,
          digests: between.map((b) => entryDigest(Buffer.from(b.canonical, 'utf8')).toString('hex')),
          checkpoint: cp.checkpoint,
        });
      }
      await recordAccess(em, principal, { referralId, resource: { service: 'audit', kind: 'audit-export', action: 'export' } });
    }
    const entries: EvidenceEntry[] = rows.map((r) => ({ seq: r.seq, hash: r.hash, canonical: r.canonical }));
    // Sealed with the checkpoint key: the proof shows each entry is in the chain, the seal that none is left out (ADR 0011).
    return sealPack(
      {
        chain: this.auditLog.chain,
        referralId,
        exportedAt: new Date().toISOString(),
        publicKeyPem: this.signer.publicKeyPem(),
        entries,
        proof,
      },
      this.signer,
    );
  }
}
