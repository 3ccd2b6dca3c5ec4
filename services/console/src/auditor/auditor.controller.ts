import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { nhsNumberSchema } from '@sonet/contracts';
import { Backend, idempotencyKey } from '../backend';
import { parse, submissionSchema, uuidParam } from '../forms';
import { metricByLabel } from '../links';
import { requireUser } from '../session';
import { Ui } from '../ui';

const findReferral = z.object({ referralId: z.string().trim().pipe(uuidParam) });
const findPatient = submissionSchema.extend({ nhsNumber: nhsNumberSchema });
const exportQuery = z.object({ format: z.enum(['ndjson', 'fhir']).default('ndjson') });

interface AuditEntry {
  seq: string;
  type: string;
  time: string;
  source: string;
  subject: string | null;
  data?: Record<string, unknown>;
}

/** Verify results seen by this console process (the audit service keeps no "last verify" of its own to ask). */
let lastVerify: { at: string; ok: boolean; entries: number; head: string } | null = null;

/**
 * Auditors: a referral's timeline and who accessed it, a patient's accesses (the NHS number travels only in POST
 * bodies: the audit service hashes it), the chain's state with "verify now", and the evidence pack. The audit service
 * records each of these reads as an access in its own log.
 */
@Controller('audit')
export class AuditorController {
  constructor(
    private readonly backend: Backend,
    private readonly ui: Ui,
  ) {}

  @Get()
  async find(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    requireUser(request, 'auditor');
    if (query.referralId !== undefined) {
      const { referralId } = parse(findReferral, query);
      return reply.redirect(`/audit/referrals/${referralId}`, 303);
    }
    return this.ui.page(request, reply, 'audit/find.njk', { title: 'Find a referral or a patient' });
  }

  /** POST, so the NHS number is never in a URL; the page shows the result directly (no redirect carrying it). */
  @Post('patient')
  async patient(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const user = requireUser(request, 'auditor');
    const form = parse(findPatient, body);
    const { body: page } = await this.backend.json<{ items: AuditEntry[] }>(user, 'audit', '/v1/audit/events/search', {
      method: 'POST',
      body: { nhsNumber: form.nhsNumber, limit: 200 },
      idempotencyKey: idempotencyKey(request.session.sessionId, form.submission, 'patient-search'),
    });
    const accesses = page.items.filter((e) => e.type.startsWith('access.'));
    const referralIds = [...new Set(page.items.map((e) => e.subject).filter((s): s is string => !!s && /^[0-9a-f-]{36}$/.test(s)))];
    return this.ui.page(request, reply, 'audit/patient.njk', {
      title: "Who accessed this patient's records",
      accesses: accesses.map(accessRow),
      referralIds,
      entries: page.items.length,
    });
  }

  @Get('referrals/:id')
  async referral(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    const user = requireUser(request, 'auditor');
    const referralId = parse(uuidParam, id);
    const [{ body: timeline }, { body: accesses }] = await Promise.all([
      this.backend.json<{ items: AuditEntry[] }>(user, 'audit', `/v1/audit/referrals/${referralId}/timeline`),
      this.backend.json<{ items: AuditEntry[] }>(
        user,
        'audit',
        `/v1/audit/events?referralId=${referralId}&type=access.recorded.v1&limit=200`,
      ),
    ]);
    if (timeline.items.length === 0) return this.ui.page(request, reply, 'errors/not-found.njk', { title: 'Page not found' }, 404);
    return this.ui.page(request, reply, 'audit/referral.njk', {
      title: 'Referral audit trail',
      referralId,
      timeline: timeline.items.filter((e) => !e.type.startsWith('access.')),
      accesses: accesses.items.map(accessRow),
    });
  }

  @Get('referrals/:id/export')
  async export(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Query() query: unknown) {
    const user = requireUser(request, 'auditor');
    const referralId = parse(uuidParam, id);
    const { format } = parse(exportQuery, query);
    const res = await this.backend.raw(user, 'audit', `/v1/audit/referrals/${referralId}/export?format=${format}`);
    const filename = `audit-${referralId}.${format === 'fhir' ? 'fhir.json' : 'ndjson'}`;
    return reply
      .type(res.headers.get('content-type') ?? 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .send(Buffer.from(await res.arrayBuffer()));
  }

  @Get('chain')
  async chain(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    requireUser(request, 'auditor');
    return this.ui.page(request, reply, 'audit/chain.njk', { title: 'The audit chain', state: await this.chainState(), lastVerify });
  }

  @Post('chain/verify')
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const user = requireUser(request, 'auditor');
    parse(submissionSchema, body);
    const { body: result } = await this.backend.json<{
      ok: boolean;
      entries: number;
      head: string;
      lastSeq: string;
      checkpointsChecked: number;
      externalCheckpoints: number;
      firstBreak: unknown;
      durationMs: number;
    }>(user, 'audit', '/v1/audit/verify');
    lastVerify = { at: new Date().toISOString(), ok: result.ok, entries: result.entries, head: result.head };
    return this.ui.page(request, reply, 'audit/chain.njk', {
      title: 'The audit chain',
      state: await this.chainState(),
      lastVerify,
      result,
    });
  }

  private async chainState() {
    const metrics = await this.backend.metrics('audit');
    const head = metricByLabel(metrics, 'sonet_audit_chain_head', 'audit_chain')[0];
    const checkpoint = metricByLabel(metrics, 'sonet_audit_checkpoint_seq', 'audit_chain')[0];
    return { chain: head?.label ?? 'sonet-audit', headSeq: head?.value ?? null, checkpointSeq: checkpoint?.value ?? null };
  }
}

const accessRow = (e: AuditEntry) => {
  const d = (e.data ?? {}) as {
    actor?: { subject?: string; role?: string; organisation?: string };
    purpose?: string;
    resource?: { service?: string; kind?: string; action?: string };
  };
  return {
    time: e.time,
    who: d.actor?.subject ?? 'unknown',
    role: d.actor?.role ?? '',
    organisation: d.actor?.organisation ?? '',
    what: [d.resource?.service, d.resource?.kind, d.resource?.action].filter(Boolean).join(' '),
    why: d.purpose ?? '',
  };
};
