// A partition's units in flight, oldest first: whatever the order units are added and removed
// in (and a unit added again), the list counts them and reports when the oldest still in
// flight was taken, as a Map from unit to time kept in insertion order did.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { type InFlightLink, InFlightUnits } from '../../../src/processing/in-flight-units.ts'

const link = (): InFlightLink => ({
  takenAt: 0,
  inFlightPrev: undefined,
  inFlightNext: undefined,
  inFlightLinked: false,
})

it('matches a Map from unit to time under any sequence of adds and removes', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(9)), { maxLength: 200 }), (ops) => {
      const units = Array.from({ length: 10 }, link)
      const list = new InFlightUnits()
      const model = new Map<InFlightLink, number>()
      let now = 0
      for (const [add, i] of ops) {
        const u = units[i]!
        now++
        if (add) {
          // Taken again: its time is the new one, and it is the newest (not kept in place).
          model.delete(u)
          model.set(u, now)
          list.add(u, now)
        } else {
          model.delete(u)
          list.delete(u)
        }
        assert.equal(list.size, model.size)
        assert.equal(list.oldestTakenAt(), model.values().next().value)
      }
    }),
  )
})
