// The text of the offset commands says one thing about what was (not) written: a refused plan
// that nothing was written because the checks refused, a plan with nothing to change just that.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { OffsetCommandReport } from '../../../src/admin/segment-offsets/command.ts'
import type { GroupPlan } from '../../../src/admin/segment-offsets/plan.ts'
import { offsetCommandText } from '../../../src/cli/segments-output.ts'

function report(
  plan: Partial<GroupPlan>,
  options: { dryRun: boolean; refused: boolean },
): OffsetCommandReport {
  return {
    command: 'reset',
    dryRun: options.dryRun,
    force: false,
    noSegmentedGroups: false,
    activeGroups: [],
    refused: options.refused,
    written: 0,
    groups: [
      {
        origin: 'analytics',
        count: 2,
        segmentGroups: ['analytics-parallel-0', 'analytics-parallel-1'],
        otherSegmentGroups: [],
        fingerprint: 'fp',
        plan: { origin: 'analytics', writes: [], problems: [], notes: [], ...plan },
      },
    ],
  }
}

describe('offsetCommandText', () => {
  it('a refused dry run says the checks refused, not "nothing to write"', () => {
    const text = offsetCommandText(
      report(
        { problems: ['Parallel segment analytics-parallel-1 already has offset 12 set for events#0'] },
        { dryRun: true, refused: true },
      ),
    )
    assert.doesNotMatch(text, /nothing to write/)
    assert.doesNotMatch(text, /nothing to change/)
    assert.match(text, /nothing written: the checks above refused/)
  })

  for (const dryRun of [true, false]) {
    it(`a plan with nothing to change says "nothing to change" once (${dryRun ? 'dry run' : 'written'})`, () => {
      const text = offsetCommandText(report({}, { dryRun, refused: false }))
      assert.equal(text.match(/nothing to change/g)?.length, 1, text)
      assert.doesNotMatch(text, /nothing to write|nothing written|would be|wrote/, text)
    })
  }
})
