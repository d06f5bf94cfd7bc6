// `multilane bench run --points` takes point names separated by commas, and a dimension point's
// full name has commas of its own (`cg-continuous,rate=5000`): its `key=value` parts stay with
// the point they follow, so one dimension point can be chosen.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pointList } from '../../../src/cli/commands/bench.ts'

test('named points separated by commas are each one name', () => {
  assert.deepEqual(pointList('cg-blocking, sg-continuous'), ['cg-blocking', 'sg-continuous'])
})

test("a dimension point's key=value parts stay with the point they follow", () => {
  assert.deepEqual(pointList('cg-continuous,rate=5000'), ['cg-continuous,rate=5000'])
  assert.deepEqual(pointList('a,rate=5000,capacity=100,b,c,rate=2000'), [
    'a,rate=5000,capacity=100',
    'b',
    'c,rate=2000',
  ])
})

test('an empty name, or a key=value part before any point, is refused naming the rule', () => {
  assert.throws(() => pointList('a,,b'), /must be point names separated by commas/)
  assert.throws(() => pointList('rate=5000,a'), /key=value part .* must follow a point name/)
})
