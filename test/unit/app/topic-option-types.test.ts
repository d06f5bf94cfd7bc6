// Invalid combinations of topic options are type errors where the values are written literally
// (`npm run typecheck` checks each @ts-expect-error below), and still ConfigurationErrors when
// the app is defined (for JavaScript, and for orderings only known at run time).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { Ordering } from '../../../src/app/definition.ts'

const app = () => createApp({ kafka: { bootstrap: '127.0.0.1:9092' }, logger: false })
const handler = () => {}

test("virtualPartitions without ordering: 'key' is a type error and a ConfigurationError", () => {
  assert.throws(
    () =>
      app().consumerGroup('g', (g) =>
        g.topic('t', {
          processing: { ordering: 'partition' },
          // @ts-expect-error virtualPartitions needs processing.ordering: 'key'
          virtualPartitions: { maxPartitions: 8 },
          handler,
        }),
      ),
    { code: 'INVALID_CONFIGURATION' },
  )
  assert.throws(
    () =>
      app().consumerGroup('g', (g) =>
        // @ts-expect-error no ordering is 'partition', which has no virtual partitions
        g.topic('t', { virtualPartitions: { maxPartitions: 8 }, handler }),
      ),
    { code: 'INVALID_CONFIGURATION' },
  )
  // Valid: key ordering with virtual partitions; and an ordering only known at run time.
  app().consumerGroup('g', (g) =>
    g.topic('t', { processing: { ordering: 'key' }, virtualPartitions: { maxPartitions: 8 }, handler }),
  )
  const ordering = ['key', 'unordered'][0] as Ordering
  app().consumerGroup('g', (g) =>
    g.topic('t', { processing: { ordering }, virtualPartitions: { maxPartitions: 8 }, handler }),
  )
})

test("ordering: 'partition' in a share group is a type error and a ConfigurationError", () => {
  assert.throws(
    () =>
      app().shareGroup('s', (g) =>
        // @ts-expect-error share groups have no partition order
        g.topic('t', { processing: { ordering: 'partition' }, handler }),
      ),
    { code: 'INVALID_CONFIGURATION' },
  )
  app().shareGroup('s', (g) =>
    g.topic('t', { processing: { ordering: 'key' }, virtualPartitions: { maxPartitions: 4 }, handler }),
  )
  assert.throws(
    () =>
      app().shareGroup('s', (g) =>
        g.topic('t', {
          processing: { ordering: 'unordered' },
          // @ts-expect-error virtualPartitions needs processing.ordering: 'key'
          virtualPartitions: { maxPartitions: 4 },
          handler,
        }),
      ),
    { code: 'INVALID_CONFIGURATION' },
  )
})
