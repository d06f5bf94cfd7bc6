// Assignors share Java's member order — static members by group.instance.id first, then dynamic
// members by member id, comparing UTF-16 code units — and one result shape: every member present,
// topics and partitions sorted, topics without partitions left out.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareMembers, compareStrings, toGroupAssignment } from '../../../../src/engine/classic/assignor.ts'
import { member } from './assignors/members.ts'

test('static members sort before dynamic ones, by instance id; dynamic ones by member id', () => {
  const sorted = [
    member('a', [], {}),
    member('z', [], { instance: 'i2' }),
    member('b', [], { instance: 'i1' }),
    member('B', [], {}),
  ]
    .sort(compareMembers)
    .map((m) => m.memberId)
  assert.deepEqual(sorted, ['b', 'z', 'B', 'a'])
})

test('strings compare by UTF-16 code units, as Java String.compareTo does', () => {
  assert.ok(compareStrings('Z', 'a') < 0)
  assert.ok(compareStrings('a', 'ä') < 0)
  assert.ok(compareStrings('\uffff', '\u{1F600}') > 0) // a surrogate pair's first unit is 0xD83D
  assert.equal(compareStrings('x', 'x'), 0)
})

test('toGroupAssignment lists every member, sorts topics and partitions, drops empty topics', () => {
  const members = [member('m1', ['a', 'b']), member('m2', ['a'])]
  const result = toGroupAssignment(
    members,
    new Map([
      [
        'm1',
        new Map([
          ['b', [2, 0]],
          ['a', [1]],
          ['c', []],
        ]),
      ],
    ]),
  )
  assert.deepEqual(
    [...result],
    [
      [
        'm1',
        [
          { topic: 'a', partitions: [1] },
          { topic: 'b', partitions: [0, 2] },
        ],
      ],
      ['m2', []],
    ],
  )
})
