// The cooperative-sticky assignor keeps the partitions members own where balance allows, moves the
// fewest, never hands a partition from one member straight to another in one generation (the new
// owner gets it in the follow-up rebalance, after the old one revoked it), and reaches a balanced,
// stable assignment; its userData and generation rules are Java's CooperativeStickyAssignor's.
// Cases are Kafka's CooperativeStickyAssignorTest and AbstractStickyAssignorTest (without racks).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import type { GroupAssignment, MemberSubscription } from '../../../../../src/engine/classic/assignor.ts'
import {
  cooperativeStickyAssignor,
  decodeCooperativeStickyUserData,
  encodeCooperativeStickyUserData,
  memberGeneration,
} from '../../../../../src/engine/classic/assignors/cooperative-sticky.ts'
import { counts, flat, member } from './members.ts'

const assign = cooperativeStickyAssignor.assign

/** The next generation's subscriptions: every member owns what it was assigned. */
function followUp(members: MemberSubscription[], assignment: GroupAssignment, generation: number) {
  return members.map((m) => ({
    ...m,
    ownedPartitions: assignment.get(m.memberId)!,
    generationId: generation,
  }))
}

/** Rebalances until no member loses anything (at most `max` rounds); returns the final state. */
function converge(members: MemberSubscription[], partitionCounts: Map<string, number>, max = 4) {
  let current = members
  let assignment = assign(current, partitionCounts)
  for (let round = 1; ; round++) {
    const revoked = current.some((m) => {
      const now = new Set(flat(new Map([[m.memberId, assignment.get(m.memberId)!]]))[m.memberId])
      return m.ownedPartitions.some(({ topic, partitions }) =>
        partitions.some((p) => !now.has(`${topic}-${p}`)),
      )
    })
    if (!revoked) return { members: current, assignment, rounds: round }
    assert.ok(round < max, `still revoking after ${max} rebalances`)
    current = followUp(current, assignment, 100 + round)
    assignment = assign(current, partitionCounts)
  }
}

describe('wire conventions', () => {
  test('protocol name "cooperative-sticky", cooperative rebalancing', () => {
    assert.equal(cooperativeStickyAssignor.name, 'cooperative-sticky')
    assert.equal(cooperativeStickyAssignor.rebalanceProtocol, 'cooperative')
  })

  test('userData is the generation as one big-endian INT32 (Java COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0)', () => {
    assert.deepEqual(
      cooperativeStickyAssignor.subscriptionUserData!({ topics: ['t'], generationId: -1 }),
      Buffer.from('ffffffff', 'hex'),
    )
    assert.deepEqual(encodeCooperativeStickyUserData(10), Buffer.from('0000000a', 'hex'))
    assert.equal(decodeCooperativeStickyUserData(Buffer.from('0000000a', 'hex')), 10)
  })

  test('userData Java cannot read counts as no generation: null, or fewer than four bytes', () => {
    assert.equal(decodeCooperativeStickyUserData(null), -1)
    assert.equal(decodeCooperativeStickyUserData(Buffer.from([0, 0, 1])), -1)
    // Longer userData: Java reads the struct from the start and ignores the rest.
    assert.equal(decodeCooperativeStickyUserData(Buffer.from('00000007ff', 'hex')), 7)
  })

  test("librdkafka < 2.1's sticky userData ([previous assignment] generation) yields its trailing generation", () => {
    // topics 1: "t" [0, 1], generation 6
    const librdkafka = Buffer.from(
      '00000001 0001 74 00000002 00000000 00000001 00000006'.replace(/ /g, ''),
      'hex',
    )
    assert.equal(decodeCooperativeStickyUserData(librdkafka), 6)
    // No previous assignment: an empty array, then the generation.
    assert.equal(
      decodeCooperativeStickyUserData(Buffer.from('00000000 00000003'.replace(/ /g, ''), 'hex')),
      3,
    )
    // Bytes that do not parse as that layout are read as Java reads them: the first INT32.
    assert.equal(decodeCooperativeStickyUserData(Buffer.from('000000090001', 'hex')), 9)
  })

  test('the generation field (subscription v2+) wins; without it the userData generation counts (testMemberDataWithInconsistentData)', () => {
    const userData = encodeCooperativeStickyUserData(5)
    assert.equal(memberGeneration({ generationId: 9, userData }), 9)
    assert.equal(memberGeneration({ generationId: -1, userData }), 5)
    assert.equal(memberGeneration({ generationId: -1, userData: null }), -1)
  })
})

describe("Kafka's cases", () => {
  test('a partition two members of one generation claim goes to nobody until both revoked it (equal partitions per consumer)', () => {
    const members = [
      member('consumer1', ['topic'], { owned: ['topic-0', 'topic-1'], generation: 1 }),
      member('consumer2', ['topic'], { owned: ['topic-0', 'topic-2'], generation: 1 }),
      member('consumer3', ['topic'], { generation: 1 }),
    ]
    const p = counts({ topic: 3 })
    assert.deepEqual(flat(assign(members, p)), {
      consumer1: ['topic-1'],
      consumer2: ['topic-2'],
      consumer3: [],
    })
    assert.deepEqual(flat(converge(members, p).assignment), {
      consumer1: ['topic-1'],
      consumer2: ['topic-2'],
      consumer3: ['topic-0'],
    })
  })

  test('the same with unequal partitions per consumer', () => {
    const members = [
      member('consumer1', ['topic'], { owned: ['topic-0', 'topic-1'], generation: 1 }),
      member('consumer2', ['topic'], { owned: ['topic-0', 'topic-2'], generation: 1 }),
      member('consumer3', ['topic'], { generation: 1 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic: 4 }))), {
      consumer1: ['topic-1', 'topic-3'],
      consumer2: ['topic-2'],
      consumer3: [],
    })
  })

  test('old subscriptions (v1, generation in userData) keep their partitions (testAssignorWithOldVersionSubscriptions)', () => {
    const userData = encodeCooperativeStickyUserData(1)
    const members = [
      member('consumer1', ['topic1'], { owned: ['topic1-0'], userData }),
      member('consumer2', ['topic1'], { owned: ['topic1-1'], userData }),
      member('consumer3', ['topic1'], { generation: 1 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic1: 3 }))), {
      consumer1: ['topic1-0'],
      consumer2: ['topic1-1'],
      consumer3: ['topic1-2'],
    })
  })

  test('a member owning minQuota where maxQuota is expected gets the extra partition (testConsumerOwningMinQuotaExpectedMaxQuota)', () => {
    const members = [
      member('consumer1', ['topic1', 'topic2'], { owned: ['topic1-0', 'topic2-1'], generation: 1 }),
      member('consumer2', ['topic1', 'topic2'], { owned: ['topic1-1', 'topic2-2'], generation: 1 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic1: 2, topic2: 3 }))), {
      consumer1: ['topic1-0', 'topic2-0', 'topic2-1'],
      consumer2: ['topic1-1', 'topic2-2'],
    })
  })

  test('more members own maxQuota than may keep it: one gives a partition up, revoked first (testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers)', () => {
    // Java visits members in HashMap order, where consumer2 keeps both; here member-id order
    // lets consumer1 keep both. Either way one partition moves, through a revocation.
    const members = [
      member('consumer1', ['topic1', 'topic2'], { owned: ['topic1-0', 'topic2-0'], generation: 1 }),
      member('consumer2', ['topic1', 'topic2'], { owned: ['topic1-1', 'topic2-1'], generation: 1 }),
      member('consumer3', ['topic1', 'topic2'], { generation: 1 }),
    ]
    const p = counts({ topic1: 2, topic2: 2 })
    assert.deepEqual(flat(assign(members, p)), {
      consumer1: ['topic1-0', 'topic2-0'],
      consumer2: ['topic1-1'],
      consumer3: [],
    })
    const final = converge(members, p)
    assert.equal(final.rounds, 2)
    assert.deepEqual(flat(final.assignment), {
      consumer1: ['topic1-0', 'topic2-0'],
      consumer2: ['topic1-1'],
      consumer3: ['topic2-1'],
    })
  })

  test('all members under minQuota keep theirs and are filled round-robin (testAllConsumersAreUnderMinQuota)', () => {
    const members = [
      member('consumer1', ['topic1', 'topic2'], { owned: ['topic1-0'], generation: 1 }),
      member('consumer2', ['topic1', 'topic2'], { owned: ['topic1-1'], generation: 1 }),
      member('consumer3', ['topic1', 'topic2'], { generation: 1 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic1: 2, topic2: 3 }))), {
      consumer1: ['topic1-0', 'topic2-1'],
      consumer2: ['topic1-1', 'topic2-2'],
      consumer3: ['topic2-0'],
    })
  })

  test('claims from a stale generation (or none) yield to the newest (testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration/NoGeneration)', () => {
    for (const stale of [9, -1]) {
      const owned = ['topic-0', 'topic-2', 'topic2-1']
      const members = [
        member('consumer1', ['topic', 'topic2'], { owned, generation: 10 }),
        member('consumer2', ['topic', 'topic2'], { owned, generation: stale }),
      ]
      assert.deepEqual(flat(assign(members, counts({ topic: 3, topic2: 3 }))), {
        consumer1: ['topic-0', 'topic-2', 'topic2-1'],
        consumer2: ['topic-1', 'topic2-0', 'topic2-2'],
      })
    }
  })

  test('partitions stay with the highest generation claiming them (testEnsurePartitionsAssignedToHighestGeneration)', () => {
    const topics = ['topic', 'topic2', 'topic3']
    const members = [
      member('consumer1', topics, { owned: ['topic-0', 'topic2-0', 'topic3-0'], generation: 10 }),
      member('consumer2', topics, { owned: ['topic-1', 'topic2-1', 'topic3-1'], generation: 9 }),
      member('consumer3', topics, { owned: ['topic2-1', 'topic3-0', 'topic3-2'], generation: 8 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic: 3, topic2: 3, topic3: 3 }))), {
      consumer1: ['topic-0', 'topic2-0', 'topic3-0'],
      consumer2: ['topic-1', 'topic2-1', 'topic3-1'],
      consumer3: ['topic-2', 'topic2-2', 'topic3-2'],
    })
  })

  test('a new member gets only what nobody owns (testNoReassignmentOnCurrentMembers)', () => {
    const topics = ['topic', 'topic2', 'topic3', 'topic1']
    const members = [
      member('consumer1', topics, { generation: -1 }),
      member('consumer2', topics, { owned: ['topic-0', 'topic2-0', 'topic1-0'], generation: 9 }),
      member('consumer3', topics, { owned: ['topic3-2', 'topic2-2', 'topic1-1'], generation: 8 }),
      member('consumer4', topics, { owned: ['topic3-1', 'topic-1', 'topic-2'], generation: 7 }),
    ]
    const result = flat(assign(members, counts({ topic: 3, topic1: 3, topic2: 3, topic3: 3 })))
    assert.deepEqual(result.consumer1, ['topic1-2', 'topic2-1', 'topic3-0'])
  })

  test('owned partitions claimed by an older generation go to the newer one (testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration)', () => {
    const members = [
      member('consumer1', ['topic', 'topic2'], { owned: ['topic-0', 'topic2-1', 'topic-1'], generation: 10 }),
      member('consumer2', ['topic', 'topic2'], { owned: ['topic-0', 'topic2-1', 'topic2-2'], generation: 8 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic: 3, topic2: 3 }))), {
      consumer1: ['topic-0', 'topic-1', 'topic2-1'],
      consumer2: ['topic-2', 'topic2-0', 'topic2-2'],
    })
  })

  test('different subscriptions: partitions with fewer subscribers first, then the least loaded (testMultipleConsumersMixedTopicSubscriptions)', () => {
    const members = [
      member('consumer1', ['topic1']),
      member('consumer2', ['topic1', 'topic2']),
      member('consumer3', ['topic1']),
    ]
    assert.deepEqual(flat(assign(members, counts({ topic1: 3, topic2: 2 }))), {
      consumer1: ['topic1-0', 'topic1-2'],
      consumer2: ['topic2-0', 'topic2-1'],
      consumer3: ['topic1-1'],
    })
  })

  test('a topic added then removed: members keep what they had (testAddRemoveTopicTwoConsumers)', () => {
    let members = [member('consumer1', ['topic']), member('consumer2', ['topic'])]
    const first = assign(members, counts({ topic: 3 }))
    const sizes = [...first.values()].map((l) => flat(new Map([['x', l]])).x!.length).sort()
    assert.deepEqual(sizes, [1, 2])
    members = followUp(members, first, 1).map((m) => ({ ...m, topics: ['topic', 'topic2'] }))
    const second = assign(members, counts({ topic: 3, topic2: 3 }))
    for (const m of ['consumer1', 'consumer2']) {
      assert.equal(flat(second)[m]!.length, 3)
      for (const tp of flat(first)[m]!) assert.ok(flat(second)[m]!.includes(tp), `${m} keeps ${tp}`)
    }
    members = followUp(members, second, 2).map((m) => ({ ...m, topics: ['topic2'] }))
    const third = assign(members, counts({ topic2: 3 }))
    for (const m of ['consumer1', 'consumer2']) {
      for (const tp of flat(third)[m]!) assert.ok(flat(second)[m]!.includes(tp), `${m} keeps ${tp}`)
    }
    assert.equal(flat(third).consumer1!.length + flat(third).consumer2!.length, 3)
  })

  test('three generations claiming one partition, unequal subscriptions: each member gets one or two (testSubscriptionNotEqualAndAssignSamePartitionWith3Generation)', () => {
    for (const [g1, g2, g3] of [
      [1, 2, 3],
      [1, 3, 2],
      [2, 1, 3],
      [2, 3, 1],
      [3, 1, 2],
      [3, 2, 1],
    ] as const) {
      const members = [
        member('consumer1', ['topic'], { owned: ['topic-0', 'topic-2'], generation: g1 }),
        member('consumer2', ['topic'], { owned: ['topic-1', 'topic-2', 'topic-3'], generation: g2 }),
        member('consumer3', ['topic'], { owned: ['topic-2', 'topic-4', 'topic-5'], generation: g3 }),
        member('consumer4', ['topic1'], { owned: ['topic1-0'], generation: 2 }),
      ]
      const result = flat(assign(members, counts({ topic: 6, topic1: 1 })))
      const all = Object.values(result).flat()
      assert.equal(new Set(all).size, all.length)
      for (const list of Object.values(result))
        assert.ok(list.length >= 1 && list.length <= 2, JSON.stringify(result))
    }
  })
})

describe('claims from members that dropped the topic', () => {
  test('a member of the same generation that unsubscribed but still claims a partition holds it until it revokes', () => {
    // m1 dropped t0 but its owned list still has t0-1: it reads t0-1 until it revokes it, so
    // m0's equal-generation claim must not let m0 keep reading it alongside.
    const members = [
      member('m0', ['t0', 't1'], { owned: ['t0-1'], generation: 0 }),
      member('m1', ['t1'], { owned: ['t0-1'], generation: 0 }),
    ]
    const p = counts({ t0: 2, t1: 2 })
    assert.ok(!flat(assign(members, p)).m0!.includes('t0-1'))
    assert.ok(flat(converge(members, p).assignment).m0!.includes('t0-1'))
  })

  test('when the unsubscribed member is the newest claimant, the partition waits for its revocation', () => {
    const members = [
      member('m0', ['t0'], { owned: ['t0-0'], generation: 4 }),
      member('m1', ['t1'], { owned: ['t0-0'], generation: 5 }),
    ]
    assert.deepEqual(flat(assign(members, counts({ t0: 1, t1: 1 }))), { m0: [], m1: ['t1-0'] })
  })
})

describe('properties over random groups', () => {
  interface Scenario {
    members: MemberSubscription[]
    partitionCounts: Map<string, number>
    equal: boolean
  }

  const scenarios: fc.Arbitrary<Scenario> = fc
    .record({
      sizes: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
      memberCount: fc.integer({ min: 1, max: 6 }),
      equal: fc.boolean(),
    })
    .chain(({ sizes, memberCount, equal }) => {
      const topics = sizes.map((_, i) => `t${i}`)
      // Claims may name partitions that no longer exist (a deleted topic, a partition past the count).
      const claimable = [
        ...topics.flatMap((t, i) => Array.from({ length: sizes[i]! }, (_, p) => `${t}-${p}`)),
        'gone-0',
        't0-99',
      ]
      const one = fc.record({
        topics: equal ? fc.constant(topics) : fc.subarray(topics, { minLength: 1 }),
        owned: fc.subarray(claimable),
        generation: fc.integer({ min: -1, max: 3 }),
      })
      return fc.array(one, { minLength: memberCount, maxLength: memberCount }).map((list) => ({
        members: list.map((m, i) => member(`m${i}`, m.topics, { owned: m.owned, generation: m.generation })),
        partitionCounts: counts(Object.fromEntries(topics.map((t, i) => [t, sizes[i]!]))),
        equal,
      }))
    })

  const existing = (s: Scenario, tp: string) => {
    const at = tp.lastIndexOf('-')
    return Number(tp.slice(at + 1)) < (s.partitionCounts.get(tp.slice(0, at)) ?? 0)
  }
  const claims = (m: MemberSubscription) =>
    m.ownedPartitions.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`))

  function checkValid(s: Scenario, members: MemberSubscription[], assignment: GroupAssignment) {
    const result = flat(assignment)
    const seen = new Set<string>()
    for (const m of members) {
      for (const tp of result[m.memberId]!) {
        assert.ok(!seen.has(tp), `${tp} assigned twice`)
        seen.add(tp)
        assert.ok(existing(s, tp), `${tp} does not exist`)
        assert.ok(
          m.topics.includes(tp.slice(0, tp.lastIndexOf('-'))),
          `${tp} given to ${m.memberId}, not subscribed`,
        )
        // Cooperative: if anyone else claims it, the receiver claims it too, from a newer generation.
        for (const other of members) {
          if (other === m || !claims(other).includes(tp)) continue
          assert.ok(
            claims(m).includes(tp) && memberGeneration(m) > memberGeneration(other),
            `${tp} moved from ${other.memberId} to ${m.memberId} in one generation`,
          )
        }
      }
    }
  }

  test('every partition goes to at most one subscribed member, and never straight from one claimant to another', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        checkValid(s, s.members, assign(s.members, s.partitionCounts))
      }),
      { numRuns: 500 },
    )
  })

  test('follow-up rebalances converge within four rounds to a complete, balanced, stable assignment', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        let current = s.members
        let assignment = assign(current, s.partitionCounts)
        const final = converge(s.members, s.partitionCounts)
        // Every intermediate round is valid too.
        for (let round = 1; round < final.rounds; round++) {
          current = followUp(current, assignment, 100 + round)
          assignment = assign(current, s.partitionCounts)
          checkValid(s, current, assignment)
        }
        const result = flat(final.assignment)
        const subscribed = new Set(s.members.flatMap((m) => m.topics))
        const all = [...subscribed].flatMap((t) =>
          Array.from({ length: s.partitionCounts.get(t) ?? 0 }, (_, p) => `${t}-${p}`),
        )
        assert.deepEqual(Object.values(result).flat().sort(), all.sort(), 'complete')
        const load = (id: string) => result[id]!.length
        if (s.equal) {
          const loads = s.members.map((m) => load(m.memberId))
          assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `balanced: ${loads}`)
        } else {
          for (const a of s.members) {
            for (const tp of result[a.memberId]!) {
              const topic = tp.slice(0, tp.lastIndexOf('-'))
              for (const b of s.members) {
                assert.ok(
                  !(b.topics.includes(topic) && load(b.memberId) < load(a.memberId) - 1),
                  `${tp} could move from ${a.memberId} (${load(a.memberId)}) to ${b.memberId} (${load(b.memberId)})`,
                )
              }
            }
          }
        }
        const again = assign(followUp(final.members, final.assignment, 200), s.partitionCounts)
        assert.deepEqual(flat(again), result, 'stable once converged')
      }),
      { numRuns: 300 },
    )
  })

  test('sticky: with equal subscriptions a member keeps its rightful partitions up to minQuota, all of them if it owns no more', () => {
    fc.assert(
      fc.property(
        scenarios.filter((s) => s.equal),
        (s) => {
          const result = flat(assign(s.members, s.partitionCounts))
          const total = [...s.partitionCounts.values()].reduce((a, b) => a + b, 0)
          const minQuota = Math.floor(total / s.members.length)
          for (const m of s.members) {
            // Its rightful claims: existing partitions no other member claims from the same or a newer generation.
            const rightful = [...new Set(claims(m))].filter(
              (tp) =>
                existing(s, tp) &&
                s.members.every(
                  (o) => o === m || !claims(o).includes(tp) || memberGeneration(o) < memberGeneration(m),
                ),
            )
            const kept = rightful.filter((tp) => result[m.memberId]!.includes(tp))
            assert.ok(
              kept.length >= Math.min(rightful.length, minQuota),
              `${m.memberId} kept ${kept} of ${rightful}`,
            )
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
