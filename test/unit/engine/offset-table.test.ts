// An offset table behaves as a Map from offsets to values under any sequence of sets, deletes,
// lookups, walks and drains: offsets handed out mostly in order, with jumps past the window (a gap or a
// record still in progress far behind), offsets below it (a record delivered again after later
// ones), a position reset to earlier offsets, and values deleted during a walk. Its walk visits
// every value once, in offset order. An empty table set below its window moves the window there,
// so the offsets that follow a reset are held in the ring, not aside.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { OffsetTable } from '../../../src/engine/offset-table.ts'

type Op =
  | { kind: 'set'; step: number }
  | { kind: 'setOld'; pick: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'walkDeleting'; every: number }
  | { kind: 'clear' }
  | { kind: 'drain' }
  | { kind: 'some'; pick: number }
  | { kind: 'reset'; back: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ kind: fc.constant('set' as const), step: fc.constantFrom(1, 1, 1, 2, 7) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      step: fc.constantFrom(63, 64, 65, 200, 5000, 20_000, 1_000_000, 2 ** 33),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setOld' as const), pick: fc.nat() }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('walkDeleting' as const),
      every: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('some' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reset' as const), back: fc.constantFrom(1, 64, 500, 100_000) }),
  },
)

function check(table: OffsetTable<string>, model: Map<number, string>, probes: number[]): void {
  assert.equal(table.size, model.size, 'size')
  const sorted = [...model.keys()].sort((a, b) => a - b)
  const walked: number[] = []
  table.forEach((value, offset) => {
    walked.push(offset)
    assert.equal(value, model.get(offset), `value at ${offset}`)
  })
  assert.deepEqual(walked, sorted, 'walked in offset order')
  assert.deepEqual(
    table.values(),
    sorted.map((o) => model.get(o)),
  )
  for (const o of probes) {
    assert.equal(table.get(o), model.get(o), `get(${o})`)
    assert.equal(table.has(o), model.has(o), `has(${o})`)
  }
}

describe('offset table', () => {
  it('matches a Map under any sequence of sets, deletes and walks', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.array(op, { maxLength: 400 }), (start, ops) => {
        const table = new OffsetTable<string>()
        const model = new Map<number, string>()
        let next = start
        let version = 0
        const keys = () => [...model.keys()]
        for (const o of ops) {
          if (o.kind === 'set') {
            next += o.step
            const v = `v${version++}`
            table.set(next, v)
            model.set(next, v)
          } else if (o.kind === 'reset') {
            // The position reset to earlier offsets: the next ones come from there on.
            next = Math.max(0, next - o.back)
            const v = `v${version++}`
            table.set(next, v)
            model.set(next, v)
          } else if (o.kind === 'setOld') {
            // An offset at or below the newest: replaced when present, else new (below the window).
            const offset = Math.max(0, next - (o.pick % 300))
            const v = `v${version++}`
            table.set(offset, v)
            model.set(offset, v)
          } else if (o.kind === 'delete') {
            const k = keys()
            const offset = k.length === 0 ? next : k[o.pick % k.length]!
            assert.equal(table.delete(offset), model.delete(offset), `delete(${offset})`)
          } else if (o.kind === 'walkDeleting') {
            let i = 0
            table.forEach((_, offset) => {
              if (i++ % o.every === 0) {
                table.delete(offset)
                model.delete(offset)
              }
            })
          } else if (o.kind === 'drain') {
            const sorted = keys().sort((a, b) => a - b)
            assert.deepEqual(
              table.drain(),
              sorted.map((k) => model.get(k)),
              'drained in offset order',
            )
            model.clear()
          } else if (o.kind === 'some') {
            const k = keys()
            const wanted = k.length === 0 ? 'none' : model.get(k[o.pick % k.length]!)
            assert.equal(
              table.some((v) => v === wanted),
              k.length > 0,
              'some finds a value held',
            )
            assert.equal(
              table.some((v) => v === 'none'),
              false,
            )
          } else {
            table.clear()
            model.clear()
          }
        }
        check(table, model, [next, next + 1, next - 1, start, ...keys()])
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    )
  })

  it('keeps a value far behind while later offsets pass (a record in progress long)', () => {
    const table = new OffsetTable<number>()
    table.set(10, 10)
    for (let o = 11; o < 100_000; o++) {
      table.set(o, o)
      table.delete(o)
    }
    assert.equal(table.get(10), 10)
    assert.equal(table.size, 1)
    assert.deepEqual(table.values(), [10])
    assert.equal(table.delete(10), true)
    assert.equal(table.size, 0)
  })

  it('moves its window down when set below it while empty (a position reset to earlier offsets)', () => {
    const table = new OffsetTable<number>()
    for (let o = 5000; o < 5100; o++) table.set(o, o)
    for (let o = 5000; o < 5100; o++) table.delete(o)
    assert.equal(table.size, 0)
    // Reset to 100: every offset from there on would have gone aside (and each walk sorted them).
    for (let o = 100; o < 150; o++) table.set(o, o)
    assert.equal(table.belowWindow, 0, 'held in the window, none aside')
    assert.deepEqual(
      table.values(),
      Array.from({ length: 50 }, (_, i) => 100 + i),
    )
    // Not empty: an offset below the window still goes aside (the window keeps what it holds).
    table.set(40, 40)
    assert.equal(table.belowWindow, 1)
    assert.equal(table.get(40), 40)
    assert.equal(table.values()[0], 40)
  })

  it('keeps the window while values below it remain, even with the ring empty', () => {
    const table = new OffsetTable<number>()
    table.set(1000, 1000)
    table.set(500, 500)
    table.delete(1000)
    table.set(10, 10)
    assert.equal(table.belowWindow, 2)
    assert.deepEqual(table.values(), [10, 500])
    assert.equal(table.get(500), 500)
  })
})
