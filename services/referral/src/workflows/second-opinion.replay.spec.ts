import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { quietTemporalRuntime } from '@sonet/testing';

/**
 * Replays every recorded history (histories/*.json) against the current workflow code. A change that would
 * break running executions (a different command where the history has another) fails here, in CI, before a
 * deploy does: such changes go behind patched().
 */
describe('SecondOpinionWorkflow replay of recorded histories', () => {
  const dir = join(__dirname, 'histories');
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

  beforeAll(() => quietTemporalRuntime());

  it('has fixtures from the walking skeleton (v1) and the complete process (v2)', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['v1-skeleton-gp-review.json', 'v2-process-full-walk.json']));
  });

  it.each(fixtures)('replays %s without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('./index') }, history, `replay-${file}`),
    ).resolves.toBeUndefined();
  });
});
