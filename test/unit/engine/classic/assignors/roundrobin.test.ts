// The roundrobin assignor deals every partition of the subscribed topics (topics by name,
// partitions in order) around a circle of members in Java's order, skipping members not
// subscribed to the partition's topic: the same assignment a Java or librdkafka leader computes.
// Cases and expected assignments are Kafka's RoundRobinAssignorTest.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { roundRobinAssignor } from '../../../../../src/engine/classic/assignors/roundrobin.ts'
import { counts, flat, member } from './members.ts'

test('the protocol name is "roundrobin" and the protocol eager', () => {
  assert.equal(roundRobinAssignor.name, 'roundrobin')
  assert.equal(roundRobinAssignor.rebalanceProtocol, 'eager')
})

test('one consumer: no topic, a missing topic, one topic, only subscribed topics, two topics', () => {
  assert.deepEqual(flat(roundRobinAssignor.assign([member('consumer', [])], counts({}))), { consumer: [] })
  assert.deepEqual(flat(roundRobinAssignor.assign([member('consumer', ['topic'])], counts({}))), {
    consumer: [],
  })
  assert.deepEqual(
    flat(roundRobinAssignor.assign([member('consumer', ['topic'])], counts({ topic: 3, other: 3 }))),
    {
      consumer: ['topic-0', 'topic-1', 'topic-2'],
    },
  )
  assert.deepEqual(
    flat(
      roundRobinAssignor.assign([member('consumer', ['topic1', 'topic2'])], counts({ topic1: 1, topic2: 2 })),
    ),
    { consumer: ['topic1-0', 'topic2-0', 'topic2-1'] },
  )
})

test('two consumers, one topic of one and of two partitions', () => {
  const two = [member('consumer1', ['topic']), member('consumer2', ['topic'])]
  assert.deepEqual(flat(roundRobinAssignor.assign(two, counts({ topic: 1 }))), {
    consumer1: ['topic-0'],
    consumer2: [],
  })
  assert.deepEqual(flat(roundRobinAssignor.assign(two, counts({ topic: 2 }))), {
    consumer1: ['topic-0'],
    consumer2: ['topic-1'],
  })
})

test('mixed subscriptions skip members not subscribed (testMultipleConsumersMixedTopics)', () => {
  const members = [
    member('consumer1', ['topic1']),
    member('consumer2', ['topic1', 'topic2']),
    member('consumer3', ['topic1']),
  ]
  assert.deepEqual(flat(roundRobinAssignor.assign(members, counts({ topic1: 3, topic2: 2 }))), {
    consumer1: ['topic1-0'],
    consumer2: ['topic1-1', 'topic2-0', 'topic2-1'],
    consumer3: ['topic1-2'],
  })
})

test("the class documentation's uneven example: C0 {t0}, C1 {t0,t1}, C2 {t0,t1,t2}", () => {
  const members = [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])]
  assert.deepEqual(flat(roundRobinAssignor.assign(members, counts({ t0: 1, t1: 2, t2: 3 }))), {
    C0: ['t0-0'],
    C1: ['t1-0'],
    C2: ['t1-1', 't2-0', 't2-1', 't2-2'],
  })
})

test('two dynamic consumers, two topics of three (testTwoDynamicConsumersTwoTopicsSixPartitions)', () => {
  const members = [member('consumer1', ['topic1', 'topic2']), member('consumer2', ['topic1', 'topic2'])]
  assert.deepEqual(flat(roundRobinAssignor.assign(members, counts({ topic1: 3, topic2: 3 }))), {
    consumer1: ['topic1-0', 'topic1-2', 'topic2-1'],
    consumer2: ['topic1-1', 'topic2-0', 'topic2-2'],
  })
})

test('static members order by instance id, and before dynamic members', () => {
  const p = counts({ topic1: 3, topic2: 3 })
  const expected = {
    'consumer-b': ['topic1-0', 'topic1-2', 'topic2-1'],
    'consumer-a': ['topic1-1', 'topic2-0', 'topic2-2'],
  }
  const statics = [
    member('consumer-b', ['topic1', 'topic2'], { instance: 'instance1' }),
    member('consumer-a', ['topic1', 'topic2'], { instance: 'instance2' }),
  ]
  assert.deepEqual(flat(roundRobinAssignor.assign(statics, p)), expected)
  const mixed = [
    member('consumer-b', ['topic1', 'topic2'], { instance: 'instance1' }),
    member('consumer-a', ['topic1', 'topic2']),
  ]
  assert.deepEqual(flat(roundRobinAssignor.assign(mixed, p)), expected)
})

test('static members keep their partitions when a dynamic member is replaced (testStaticMemberRoundRobinAssignmentPersistent)', () => {
  const p = counts({ topic1: 3, topic2: 3 })
  const statics = [1, 2, 3].map((i) =>
    member(`consumer${i}`, ['topic1', 'topic2'], { instance: `instance${i}` }),
  )
  const expected = {
    consumer1: ['topic1-0', 'topic2-1'],
    consumer2: ['topic1-1', 'topic2-2'],
    consumer3: ['topic1-2'],
  }
  assert.deepEqual(
    flat(roundRobinAssignor.assign([...statics, member('consumer4', ['topic1', 'topic2'])], p)),
    {
      ...expected,
      consumer4: ['topic2-0'],
    },
  )
  assert.deepEqual(
    flat(roundRobinAssignor.assign([...statics, member('consumer5', ['topic1', 'topic2'])], p)),
    {
      ...expected,
      consumer5: ['topic2-0'],
    },
  )
})

test('static members keep their partitions when their member ids change (testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges)', () => {
  const p = counts({ topic1: 5, topic2: 5 })
  const byInstance = (ids: string[]) => {
    const members = ids.map((id, i) => member(id, ['topic1', 'topic2'], { instance: `instance${i + 1}` }))
    const result = flat(roundRobinAssignor.assign(members, p))
    return Object.fromEntries(members.map((m) => [m.groupInstanceId, result[m.memberId]]))
  }
  const expected = {
    instance1: ['topic1-0', 'topic1-3', 'topic2-1', 'topic2-4'],
    instance2: ['topic1-1', 'topic1-4', 'topic2-2'],
    instance3: ['topic1-2', 'topic2-0', 'topic2-3'],
  }
  assert.deepEqual(byInstance(['consumer1', 'consumer2', 'consumer3']), expected)
  assert.deepEqual(byInstance(['consumer1', 'consumer5', 'consumer4']), expected)
})
