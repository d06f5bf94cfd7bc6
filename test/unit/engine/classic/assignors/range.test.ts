// The range assignor gives each subscribed member a consecutive range of every topic's partitions,
// members in Java's order (static members by instance id, then member ids), the first ones one
// more when the count does not divide: the same assignment a Java or librdkafka leader computes.
// Cases and expected assignments are Kafka's RangeAssignorTest (without racks).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rangeAssignor } from '../../../../../src/engine/classic/assignors/range.ts'
import { counts, flat, member } from './members.ts'

test('the protocol name is "range" and the protocol eager, as Java and librdkafka name it', () => {
  assert.equal(rangeAssignor.name, 'range')
  assert.equal(rangeAssignor.rebalanceProtocol, 'eager')
  assert.equal(rangeAssignor.subscriptionUserData, undefined)
})

test('one consumer: no topic, a topic missing from metadata, one topic, only subscribed topics', () => {
  assert.deepEqual(flat(rangeAssignor.assign([member('consumer1', [])], counts({}))), { consumer1: [] })
  assert.deepEqual(flat(rangeAssignor.assign([member('consumer1', ['topic1'])], counts({}))), {
    consumer1: [],
  })
  assert.deepEqual(flat(rangeAssignor.assign([member('consumer1', ['topic1'])], counts({ topic1: 3 }))), {
    consumer1: ['topic1-0', 'topic1-1', 'topic1-2'],
  })
  assert.deepEqual(
    flat(rangeAssignor.assign([member('consumer1', ['topic1'])], counts({ topic1: 3, other: 3 }))),
    { consumer1: ['topic1-0', 'topic1-1', 'topic1-2'] },
  )
})

test('one consumer, two topics (testOneConsumerMultipleTopics)', () => {
  assert.deepEqual(
    flat(rangeAssignor.assign([member('consumer1', ['topic1', 'topic2'])], counts({ topic1: 1, topic2: 2 }))),
    { consumer1: ['topic1-0', 'topic2-0', 'topic2-1'] },
  )
})

test('two consumers, one topic of one and of two partitions', () => {
  const two = [member('consumer1', ['topic1']), member('consumer2', ['topic1'])]
  assert.deepEqual(flat(rangeAssignor.assign(two, counts({ topic1: 1 }))), {
    consumer1: ['topic1-0'],
    consumer2: [],
  })
  assert.deepEqual(flat(rangeAssignor.assign(two, counts({ topic1: 2 }))), {
    consumer1: ['topic1-0'],
    consumer2: ['topic1-1'],
  })
})

test('mixed subscriptions: each topic is ranged over its own subscribers (testMultipleConsumersMixedTopics)', () => {
  const members = [
    member('consumer1', ['topic1']),
    member('consumer2', ['topic1', 'topic2']),
    member('consumer3', ['topic1']),
  ]
  assert.deepEqual(flat(rangeAssignor.assign(members, counts({ topic1: 3, topic2: 2 }))), {
    consumer1: ['topic1-0'],
    consumer2: ['topic1-1', 'topic2-0', 'topic2-1'],
    consumer3: ['topic1-2'],
  })
})

test('two consumers, two topics of three: the first gets the extra partition of each (testTwoConsumersTwoTopicsSixPartitions)', () => {
  const members = [member('consumer2', ['topic1', 'topic2']), member('consumer1', ['topic1', 'topic2'])]
  assert.deepEqual(flat(rangeAssignor.assign(members, counts({ topic1: 3, topic2: 3 }))), {
    consumer2: ['topic1-2', 'topic2-2'],
    consumer1: ['topic1-0', 'topic1-1', 'topic2-0', 'topic2-1'],
  })
})

test('static members order by instance id, and before dynamic members, whatever their member ids', () => {
  const p = counts({ topic1: 3, topic2: 3 })
  const statics = [
    member('consumer-b', ['topic1', 'topic2'], { instance: 'instance1' }),
    member('consumer-a', ['topic1', 'topic2'], { instance: 'instance2' }),
  ]
  assert.deepEqual(flat(rangeAssignor.assign(statics, p)), {
    'consumer-b': ['topic1-0', 'topic1-1', 'topic2-0', 'topic2-1'],
    'consumer-a': ['topic1-2', 'topic2-2'],
  })
  const mixed = [
    member('consumer-b', ['topic1', 'topic2'], { instance: 'instance1' }),
    member('consumer-a', ['topic1', 'topic2']),
  ]
  assert.deepEqual(flat(rangeAssignor.assign(mixed, p)), {
    'consumer-b': ['topic1-0', 'topic1-1', 'topic2-0', 'topic2-1'],
    'consumer-a': ['topic1-2', 'topic2-2'],
  })
})

test('static members keep their ranges when a dynamic member is replaced (testStaticMemberRangeAssignmentPersistent)', () => {
  const p = counts({ topic1: 5, topic2: 4 })
  const statics = [1, 2, 3].map((i) =>
    member(`consumer${i}`, ['topic1', 'topic2'], { instance: `instance${i}` }),
  )
  const expected = {
    consumer1: ['topic1-0', 'topic1-1', 'topic2-0'],
    consumer2: ['topic1-2', 'topic2-1'],
    consumer3: ['topic1-3', 'topic2-2'],
  }
  assert.deepEqual(flat(rangeAssignor.assign([...statics, member('consumer4', ['topic1', 'topic2'])], p)), {
    ...expected,
    consumer4: ['topic1-4', 'topic2-3'],
  })
  assert.deepEqual(flat(rangeAssignor.assign([...statics, member('consumer5', ['topic1', 'topic2'])], p)), {
    ...expected,
    consumer5: ['topic1-4', 'topic2-3'],
  })
})

test('static members keep their ranges when their member ids change (testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges)', () => {
  const p = counts({ topic1: 5, topic2: 5 })
  const byInstance = (ids: string[]) => {
    const members = ids.map((id, i) => member(id, ['topic1', 'topic2'], { instance: `instance${i + 1}` }))
    const result = flat(rangeAssignor.assign(members, p))
    return Object.fromEntries(members.map((m) => [m.groupInstanceId, result[m.memberId]]))
  }
  const expected = {
    instance1: ['topic1-0', 'topic1-1', 'topic2-0', 'topic2-1'],
    instance2: ['topic1-2', 'topic1-3', 'topic2-2', 'topic2-3'],
    instance3: ['topic1-4', 'topic2-4'],
  }
  assert.deepEqual(byInstance(['consumer1', 'consumer2', 'consumer3']), expected)
  assert.deepEqual(byInstance(['consumer1', 'consumer5', 'consumer4']), expected)
})

test('member ids compare by UTF-16 code units like Java, not by locale', () => {
  // 'Z' (0x5A) sorts before 'a' (0x61) in Java; a locale compare would put 'a' first.
  const members = [member('a', ['t']), member('Z', ['t'])]
  assert.deepEqual(flat(rangeAssignor.assign(members, counts({ t: 3 }))), { a: ['t-2'], Z: ['t-0', 't-1'] })
})
