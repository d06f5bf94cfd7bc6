// Header lookup by name: names are compared as UTF-8 text, whatever their characters.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RecordHeaders } from '../../../src/processing/record.ts'

test('a header whose name is not ASCII is found by get, has and getAll', () => {
  const h = new RecordHeaders([
    [Buffer.from('ünïcode'), Buffer.from('v1')],
    [Buffer.from('租户'), Buffer.from('t')],
    [Buffer.from('ünïcode'), Buffer.from('v2')],
  ])
  assert.equal(h.get('ünïcode'), 'v2', 'the last value wins')
  assert.equal(h.get('租户'), 't')
  assert.equal(h.has('ünïcode'), true)
  assert.deepEqual(h.getAll('ünïcode'), ['v1', 'v2'])
  // Same UTF-16 length as 'ünïcode' but other bytes: not a match.
  assert.equal(h.get('unicode'), undefined)
})

test('a null key is skipped; a null value reads as undefined, its header is still there', () => {
  const h = new RecordHeaders([
    [null, Buffer.from('x')],
    [Buffer.from('k'), null],
  ])
  assert.equal(h.get('k'), undefined)
  assert.equal(h.has('k'), true, 'present with a null value')
  assert.equal(h.has('x'), false)
})

test('ASCII names are compared byte by byte: exact, case-sensitive, never by length alone', () => {
  const h = new RecordHeaders([
    [Buffer.from('user'), Buffer.from('a')],
    [Buffer.from('User'), Buffer.from('b')],
    [Buffer.from('usex'), Buffer.from('c')],
    [Buffer.from([0x75, 0x73, 0xc3, 0xa9]), Buffer.from('d')], // 'usé': 4 bytes, 3 characters
  ])
  assert.equal(h.get('user'), 'a')
  assert.equal(h.get('User'), 'b')
  assert.equal(h.get('usex'), 'c')
  assert.equal(h.get('usé'), 'd')
  assert.equal(h.get('use'), undefined)
  assert.equal(h.get('users'), undefined)
  assert.equal(h.get('usey'), undefined)
  assert.deepEqual(h.getAll('user'), ['a'])
})
