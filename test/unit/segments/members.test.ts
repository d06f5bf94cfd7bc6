// How a segmented group becomes members (src/app/members.ts): one per placed segment with its
// Kafka group, segment info, filter and routing check; and which placements are refused.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ConsumerGroupDefinition } from '../../../src/app/definition.ts'
import { checkPlacement, membersOf } from '../../../src/app/members.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { MultilaneError } from '../../../src/errors.ts'
import { EventBus, type MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { raw } from '../../../src/processing/deserializers.ts'
import { ConsumedRecord } from '../../../src/processing/record.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'

const handler = () => {}

function definition(segments?: { count: number; onMismatch?: 'refuse' | 'warn' }, name = 'analytics') {
  const app = createApp({ kafka: { bootstrap: 'localhost:9092', clientId: 't' }, logger: false })
  app.consumerGroup(name, (g) => {
    if (segments) g.parallelSegments({ partitioner: (r) => r.keyString, ...segments })
    g.topic('t', { handler })
  })
  return app.definition()
}

function record(key: string): ConsumedRecord<unknown> {
  const r: ConsumerRecord = {
    topic: 't',
    partition: 0,
    offset: 1,
    timestamp: 0,
    key: Buffer.from(key),
    value: null,
    headers: [],
    leaderEpoch: 0,
  }
  return new ConsumedRecord(r, raw())
}

describe('membersOf', () => {
  it('a segmented group: one member per placed segment, with its Kafka group, info, filter and routing', () => {
    const d = definition({ count: 3 })
    const group = d.consumerGroups[0]!
    const plans = membersOf(group, d.settings, new EventBus(), [0, 2])
    assert.deepEqual(
      plans.map((p) => [p.member.group, p.member.label]),
      [
        [{ name: 'analytics-parallel-0', segmentId: 0, segmentOrigin: 'analytics' }, 'analytics segment 0'],
        [{ name: 'analytics-parallel-2', segmentId: 2, segmentOrigin: 'analytics' }, 'analytics segment 2'],
      ],
    )
    const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`)
    for (const [i, plan] of plans.entries()) {
      const id = [0, 2][i]!
      assert.deepEqual(
        keys.filter((k) => plan.filter!(record(k))),
        keys.filter((k) => defaultSegmentReducer(k, 3) === id),
      )
      assert.equal(plan.routing!.fingerprint, group.parallelSegments.fingerprint)
    }
    assert.equal(membersOf(group, d.settings, new EventBus()).length, 3, 'all segments without a placement')
  })

  it('a group without segments: one member, no filter, segment -1; a placement does not apply to it', () => {
    const d = definition()
    const plans = membersOf(d.consumerGroups[0]!, d.settings, new EventBus(), [1])
    assert.equal(plans.length, 1)
    assert.deepEqual(plans[0]!.member.group, { name: 'analytics', segmentId: -1, segmentOrigin: 'analytics' })
    assert.equal(plans[0]!.filter, undefined)
    assert.equal(plans[0]!.routing, undefined)
  })

  it("a routing mismatch: the event, then ROUTING_MISMATCH naming both fingerprints ('refuse') or nothing ('warn')", () => {
    for (const onMismatch of ['refuse', 'warn'] as const) {
      const d = definition({ count: 2, onMismatch }, 'orders-parallel-x')
      const events = new EventBus()
      const seen: Array<MultilaneEvents['parallel_segments.fingerprint_mismatch']> = []
      events.on('parallel_segments.fingerprint_mismatch', (e) => seen.push(e))
      const [plan] = membersOf(d.consumerGroups[0]!, d.settings, events, [1])
      const expected = d.consumerGroups[0]!.parallelSegments.fingerprint
      const check = () => plan!.routing!.mismatch('OLDfingerprint00', { topic: 't', partition: 4 })
      if (onMismatch === 'refuse') {
        assert.throws(check, (error: unknown) => {
          assert.ok(error instanceof MultilaneError)
          assert.equal(error.code, 'ROUTING_MISMATCH')
          for (const text of [
            'OLDfingerprint00',
            expected,
            'orders-parallel-x-parallel-1',
            't#4',
            'segments reset',
            'every segment group of "orders-parallel-x" (also those of another count, "orders-parallel-x-parallel-<id>")',
            'the lowest offset any segment group committed',
          ])
            assert.ok(error.message.includes(text), `names ${text}: ${error.message}`)
          return true
        })
      } else {
        check()
      }
      assert.deepEqual(seen, [
        {
          consumerGroup: 'orders-parallel-x-parallel-1',
          segmentId: 1,
          segmentOrigin: 'orders-parallel-x',
          topic: 't',
          partition: 4,
          expected,
          found: 'OLDfingerprint00',
          action: onMismatch,
        },
      ])
    }
  })
})

describe('checkPlacement', () => {
  const groups: ConsumerGroupDefinition[] = [
    ...definition({ count: 3 }).consumerGroups,
    ...definition({ count: 5 }, 'other').consumerGroups,
  ]
  const refused = (placement: unknown, groupsToCheck = groups) => {
    try {
      checkPlacement(groupsToCheck, placement as number[])
    } catch (error) {
      assert.ok(error instanceof MultilaneError)
      assert.equal(error.code, 'INVALID_PLACEMENT')
      return error.message
    }
    return undefined
  }

  it('accepts no placement, and ids below the largest count', () => {
    assert.equal(refused(undefined), undefined)
    assert.equal(refused([0, 4]), undefined)
  })

  it('an empty list runs only the unsegmented and share groups: refused when that is nothing', () => {
    assert.match(
      refused([])!,
      /segments is empty, every consumer group of the app has parallel segments and there is no share group: this process would run nothing/,
    )
    assert.equal(refused([], [...groups, ...definition(undefined, 'plain').consumerGroups]), undefined)
    // A `multilane run --processes` worker without a segment still runs the app's share groups.
    assert.doesNotThrow(() => checkPlacement(groups, [], 1))
  })

  it('refuses ids out of range, non-integers and non-arrays, saying why', () => {
    assert.match(refused([5])!, /segment 5 does not exist: segment ids are integers from 0 to 4/)
    assert.match(refused([1.5])!, /segment 1.5 does not exist/)
    assert.match(refused([-1])!, /segment -1 does not exist/)
    assert.match(refused(2)!, /segments must be an array of segment ids \(e\.g\. \[0, 2\]\), got number/)
    assert.match(
      refused([0], definition().consumerGroups)!,
      /no consumer group of the app has parallel segments/,
    )
  })
})
