// The scheduler's queue: under any sequence of pushes, shifts, unshifts and removals it holds
// what an array would, in the same order, growing past its initial slots and wrapping around.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { Fifo } from '../../../src/processing/fifo.ts'

type Op =
  | { op: 'push'; value: number }
  | { op: 'unshift'; value: number }
  | { op: 'shift' }
  | { op: 'remove'; mod: number; keep: number }

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('push' as const), value: fc.integer() }),
    fc.record({ op: fc.constant('push' as const), value: fc.integer() }),
    fc.record({ op: fc.constant('unshift' as const), value: fc.integer() }),
    fc.record({ op: fc.constant('shift' as const) }),
    fc.record({ op: fc.constant('shift' as const) }),
    fc.record({ op: fc.constant('remove' as const), mod: fc.integer({ min: 2, max: 5 }), keep: fc.nat(3) }),
  ),
  { maxLength: 400 },
)

it('matches an array under any sequence of operations', () => {
  fc.assert(
    fc.property(ops, (sequence: Op[]) => {
      const fifo = new Fifo<number>()
      const model: number[] = []
      for (const o of sequence) {
        if (o.op === 'push') {
          fifo.push(o.value)
          model.push(o.value)
        } else if (o.op === 'unshift') {
          fifo.unshift(o.value)
          model.unshift(o.value)
        } else if (o.op === 'shift') {
          assert.equal(fifo.shift(), model.shift())
        } else {
          const matches = (x: number) => Math.abs(x) % o.mod === 0
          const removed = fifo.remove(matches, o.keep)
          const expectedRemoved = model.filter((x, i) => i >= o.keep && matches(x))
          const kept = model.filter((x, i) => i < o.keep || !matches(x))
          model.length = 0
          model.push(...kept)
          assert.deepEqual(removed, expectedRemoved)
        }
        assert.equal(fifo.length, model.length)
        assert.equal(fifo.peek(), model[0])
      }
      assert.deepEqual([...fifo], model)
    }),
    { numRuns: 300 },
  )
})

it('gives undefined when empty and keeps working after emptying', () => {
  const fifo = new Fifo<string>()
  assert.equal(fifo.shift(), undefined)
  assert.equal(fifo.peek(), undefined)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20; i++) fifo.push(`${round}:${i}`)
    for (let i = 0; i < 20; i++) assert.equal(fifo.shift(), `${round}:${i}`)
    assert.equal(fifo.length, 0)
  }
})
