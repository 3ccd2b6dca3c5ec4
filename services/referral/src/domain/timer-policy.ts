import { z } from 'zod';
import type { Urgency } from '@sonet/contracts';
import type { TimerPolicy } from '../workflows/definitions';
import type { WaitingStep } from '../workflows/decider';

const DAY_MS = 24 * 60 * 60 * 1000;

interface StepDays {
  dueDays: number;
  reminderDaysBefore: number;
}

interface PolicyDays {
  steps: Record<WaitingStep, StepDays>;
  urgentEscalationDays?: number;
  closeAfterOpinionDays: number;
}

/** Each waiting step's timings from [days until due, days before due to remind]. */
function stepDays(days: Record<WaitingStep, readonly [number, number]>): Record<WaitingStep, StepDays> {
  const entries = Object.entries(days) as [WaitingStep, readonly [number, number]][];
  const steps = entries.map(([step, [dueDays, reminderDaysBefore]]) => [step, { dueDays, reminderDaysBefore }] as const);
  return Object.fromEntries(steps) as Record<WaitingStep, StepDays>;
}

/**
 * Default timings, in days. Routine referrals follow the usual new-referral pace; urgent ones are short,
 * and an urgent referral with no appointment after 14 days is escalated to the original team and the GP
 * (rule 10: treatment need not wait for the second opinion).
 */
export const DEFAULT_POLICY_DAYS: Record<Urgency, PolicyDays> = {
  routine: {
    steps: stepDays({ 'gp-decision': [14, 3], triage: [14, 3], 'more-info': [14, 3], booking: [28, 7], opinion: [28, 7] }),
    closeAfterOpinionDays: 30,
  },
  urgent: {
    steps: stepDays({ 'gp-decision': [2, 1], triage: [3, 1], 'more-info': [3, 1], booking: [7, 2], opinion: [14, 3] }),
    urgentEscalationDays: 14,
    closeAfterOpinionDays: 30,
  },
};

const stepOverride = z
  .object({ dueDays: z.number().positive().optional(), reminderDaysBefore: z.number().nonnegative().optional() })
  .strict();
const urgencyOverride = z
  .object({
    'gp-decision': stepOverride.optional(),
    triage: stepOverride.optional(),
    'more-info': stepOverride.optional(),
    booking: stepOverride.optional(),
    opinion: stepOverride.optional(),
    urgentEscalationDays: z.number().positive().optional(),
    closeAfterOpinionDays: z.number().positive().optional(),
  })
  .strict();
const byUrgency = z.object({ routine: urgencyOverride.optional(), urgent: urgencyOverride.optional() }).strict();
export const timerOverridesSchema = byUrgency.extend({ specialties: z.record(z.string(), byUrgency).optional() }).strict();
export type TimerOverrides = z.infer<typeof timerOverridesSchema>;

/** Reads TIMER_POLICY_JSON; a bad value stops the service at boot with the reason. */
export function parseTimerOverrides(json: string | undefined): TimerOverrides {
  if (!json) return {};
  return timerOverridesSchema.parse(JSON.parse(json));
}

const apply = (base: PolicyDays, o: z.infer<typeof urgencyOverride> | undefined): PolicyDays => {
  if (!o) return base;
  const steps = { ...base.steps };
  for (const k of Object.keys(steps) as WaitingStep[]) steps[k] = { ...steps[k], ...(o[k] ?? {}) };
  return {
    steps,
    closeAfterOpinionDays: o.closeAfterOpinionDays ?? base.closeAfterOpinionDays,
    ...((o.urgentEscalationDays ?? base.urgentEscalationDays)
      ? { urgentEscalationDays: o.urgentEscalationDays ?? base.urgentEscalationDays }
      : {}),
  };
};

/** The timings for one referral: defaults, then the urgency override, then the specialty's. */
export function timerPolicyFor(urgency: 'routine' | 'urgent', specialty: string, overrides: TimerOverrides): TimerPolicy {
  let days = apply(DEFAULT_POLICY_DAYS[urgency], overrides[urgency]);
  days = apply(days, overrides.specialties?.[specialty.toLowerCase()]?.[urgency]);
  const ms = (d: number) => Math.round(d * DAY_MS);
  const steps = Object.fromEntries(
    Object.entries(days.steps).map(([k, v]) => [
      k,
      { dueMs: ms(v.dueDays), reminderBeforeMs: ms(Math.min(v.reminderDaysBefore, v.dueDays)) },
    ]),
  ) as TimerPolicy['steps'];
  return {
    steps,
    closeAfterOpinionMs: ms(days.closeAfterOpinionDays),
    ...(urgency === 'urgent' && days.urgentEscalationDays ? { urgentEscalationMs: ms(days.urgentEscalationDays) } : {}),
  };
}
