import { Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import { timerPolicyFor, type TimerOverrides } from '../domain/timer-policy';
import { workflowIdFor, type SecondOpinionInput } from '../workflows/definitions';

/** The workflow's input for a referral: ids, urgency and the timer policy for its urgency and specialty. */
export const workflowInputFor = (
  r: { id: string; urgency: 'routine' | 'urgent'; specialty: string; originalTeamId: string | null | undefined },
  overrides: TimerOverrides,
): SecondOpinionInput => ({
  referralId: r.id,
  urgency: r.urgency,
  ...(r.originalTeamId ? { originalTeamId: r.originalTeamId } : {}),
  policy: timerPolicyFor(r.urgency, r.specialty, overrides),
});

/** Starts the referral's workflow, or attaches to it if it already runs (idempotent). */
export async function startSecondOpinionWorkflow(temporal: Client, taskQueue: string, input: SecondOpinionInput): Promise<void> {
  const args: [SecondOpinionInput] = [input];
  await temporal.workflow.start('secondOpinionWorkflow', {
    taskQueue,
    workflowId: workflowIdFor(input.referralId),
    args,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
