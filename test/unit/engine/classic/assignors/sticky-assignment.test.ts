// The sticky placement settles ownership claims by generation (the newest sole claimant keeps a
// partition, a tie at the newest generation leaves it to nobody, claims on partitions that do not
// exist are dropped), then places every partition: quota placement for equal subscriptions,
// least-loaded placement and balancing moves for unequal ones.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  partitionKey,
  type StickyMember,
  splitKey,
  stickyAssign,
} from '../../../../../src/engine/classic/assignors/sticky-assignment.ts'

const m = (memberId: string, topics: string[], owned: string[] = [], generation = 1): StickyMember => ({
  memberId,
  topics: new Set(topics),
  owned: owned.map((tp) => partitionKey(tp.split('-')[0]!, Number(tp.split('-')[1]))),
  generation,
})
const readable = (keys: Iterable<string>) =>
  [...keys].map((k) => `${splitKey(k).topic}-${splitKey(k).partition}`).sort()

test('partition keys round-trip, whatever the topic name holds', () => {
  for (const topic of ['t', 'a-b.c_d', 'with\u0000nul']) {
    assert.deepEqual(splitKey(partitionKey(topic, 12)), { topic, partition: 12 })
  }
})

test('the newest sole claimant owns; a tie at the newest generation leaves the partition to nobody', () => {
  const result = stickyAssign(
    [
      m('a', ['t'], ['t-0', 't-1'], 5),
      m('b', ['t'], ['t-0'], 4),
      m('c', ['t'], ['t-1'], 5),
      m('d', ['t'], [], 5),
    ],
    new Map([['t', 4]]),
  )
  assert.equal(result.owners.get(partitionKey('t', 0)), 'a')
  assert.equal(result.owners.has(partitionKey('t', 1)), false)
  assert.deepEqual(readable(result.claimedByMany), ['t-1'])
})

test('claims on partitions that do not exist are dropped; every existing partition is placed once', () => {
  const result = stickyAssign([m('a', ['t'], ['t-7', 'gone-0']), m('b', ['t'])], new Map([['t', 3]]))
  assert.equal(result.owners.size, 0)
  const placed = [...result.assignment.values()].flat()
  assert.deepEqual(readable(placed), ['t-0', 't-1', 't-2'])
})

test('equal subscriptions: owners keep up to their quota, the rest is dealt to members under it', () => {
  const result = stickyAssign(
    [m('a', ['t'], ['t-0', 't-1', 't-2', 't-3']), m('b', ['t'])],
    new Map([['t', 4]]),
  )
  assert.deepEqual(readable(result.assignment.get('a')!), ['t-0', 't-1'])
  assert.deepEqual(readable(result.assignment.get('b')!), ['t-2', 't-3'])
})

test('unequal subscriptions: a partition only one member can take goes to it before others are balanced', () => {
  const result = stickyAssign(
    [m('a', ['x', 'y'], ['x-0', 'x-1', 'x-2', 'x-3']), m('b', ['x']), m('c', ['y'])],
    new Map([
      ['x', 4],
      ['y', 2],
    ]),
  )
  const loads = Object.fromEntries([...result.assignment].map(([id, keys]) => [id, keys.length]))
  assert.deepEqual(readable(result.assignment.get('c')!), ['y-0', 'y-1'])
  assert.deepEqual(loads, { a: 2, b: 2, c: 2 })
})
