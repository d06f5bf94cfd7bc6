// The routing fingerprint on a real broker: every segment commit carries it; a
// segment restarted with another routing (here: another count) finds the old one and is refused
// — a fatal error naming both fingerprints and the fix, `app.run()` rejects, nothing is handled —
// or, with `onMismatch: 'warn'`, processes anyway with the event. The same routing resumes quietly.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type App, createApp } from '../../../src/app/app.ts'
import type { ParallelSegmentsOptions } from '../../../src/app/options/parallel-segments.ts'
import type { ErrorOccurredEvent, MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { decodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'
import { committedArray, segmentGroups, waitCommittedAtEnd } from '../../support/segment-processing.ts'

type Mismatch = MultilaneEvents['parallel_segments.fingerprint_mismatch']

interface Observed {
  app: App
  fingerprint: string
  handled: Array<{ segment: number; key: string }>
  mismatches: Mismatch[]
  errors: ErrorOccurredEvent[]
}

function segmentedApp(origin: string, topic: string, segments: Partial<ParallelSegmentsOptions>): Observed {
  const handled: Observed['handled'] = []
  const mismatches: Mismatch[] = []
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'segments-fp' }, logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 3, partitioner: (r) => r.keyString, ...segments })
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'unordered', commitIntervalMs: 100 },
      handler: (record, ctx) => {
        handled.push({ segment: ctx.consumerGroup.segmentId, key: record.keyString! })
      },
    })
  })
  app.on('parallel_segments.fingerprint_mismatch', (e) => mismatches.push(e))
  app.on('error.occurred', (e) => errors.push(e))
  const fingerprint = app.definition().consumerGroups[0]!.parallelSegments.fingerprint
  return { app, fingerprint, handled, mismatches, errors }
}

async function fingerprintsOf(group: string, topic: string): Promise<Array<string | undefined>> {
  const committed = await committedOffsets(group, topic, 2)
  return [0, 1].map((p) => decodeCommitMetadata(committed.get(p)?.metadata ?? null).routing)
}

test('a segment restarted with another count is refused (fatal, both fingerprints named); onMismatch "warn" processes anyway with the event', async () => {
  const topic = await createTopic('seg-fp', 2)
  await produceRecords(topic, 300, { partitions: 2 })
  const origin = uniqueName('seg-fp')
  const groups = segmentGroups(origin, 3)

  // 1. Count 3 runs to the end: every segment commit carries its fingerprint.
  const first = segmentedApp(origin, topic, {})
  await first.app.start()
  try {
    await waitCommittedAtEnd(groups, topic, 2)
  } finally {
    await first.app.stop()
  }
  for (const g of groups)
    assert.deepEqual(await fingerprintsOf(g, topic), [first.fingerprint, first.fingerprint])

  // 2. The same routing resumes: no mismatch.
  await produceRecords(topic, 30, { partitions: 2 })
  const again = segmentedApp(origin, topic, {})
  assert.equal(again.fingerprint, first.fingerprint, 'the same definition, the same fingerprint')
  await again.app.start()
  try {
    await waitCommittedAtEnd(groups, topic, 2)
  } finally {
    await again.app.stop()
  }
  assert.equal(again.handled.length, 30)
  assert.deepEqual(again.mismatches, [])

  // 3. Segment 1 restarted with count 4: refused before any record is handled.
  await produceRecords(topic, 60, { partitions: 2 })
  const before = await committedArray(groups[1]!, topic, 2)
  const changed = segmentedApp(origin, topic, { count: 4 })
  assert.notEqual(changed.fingerprint, first.fingerprint)
  const outcome = await within(
    changed.app.run({ segments: [1] }).then(
      () => undefined,
      (error: Error) => error,
    ),
    60_000,
  )
  assert.ok(outcome instanceof Error, `app.run() rejects (got ${String(outcome)})`)
  // The engine refuses the assignment (ASSIGNMENT_REFUSED), caused by the routing check.
  assert.equal((outcome as Error & { code?: string }).code, 'ASSIGNMENT_REFUSED')
  assert.equal((outcome.cause as Error & { code?: string }).code, 'ROUTING_MISMATCH')
  for (const text of [first.fingerprint, changed.fingerprint, `${origin}-parallel-1`, 'segments reset']) {
    assert.ok(outcome.message.includes(text), `the error names ${text}: ${outcome.message}`)
  }
  assert.deepEqual(changed.handled, [], 'nothing handled')
  assert.ok(changed.mismatches.length >= 1)
  for (const m of changed.mismatches) {
    assert.deepEqual(
      { ...m, partition: 0 },
      {
        consumerGroup: `${origin}-parallel-1`,
        segmentId: 1,
        segmentOrigin: origin,
        topic,
        partition: 0,
        expected: changed.fingerprint,
        found: first.fingerprint,
        action: 'refuse',
      },
    )
  }
  const fatal = changed.errors.filter((e) => e.fatal)
  assert.equal(fatal.length, 1, 'one fatal error')
  assert.equal(fatal[0]!.type, 'consumer.fatal')
  assert.equal(changed.app.failure, outcome)
  assert.deepEqual(
    await committedArray(groups[1]!, topic, 2),
    before,
    'nothing committed by the refused member',
  )
  assert.deepEqual(await fingerprintsOf(groups[1]!, topic), [first.fingerprint, first.fingerprint])

  // 4. The same with onMismatch: 'warn': processes the new records (by count 4's routing), says so.
  const warned = segmentedApp(origin, topic, { count: 4, onMismatch: 'warn' })
  assert.equal(warned.fingerprint, changed.fingerprint, 'onMismatch is not part of the routing')
  await warned.app.start({ segments: [1] })
  try {
    await waitCommittedAtEnd([groups[1]!], topic, 2)
    await waitUntil(
      async () => (await fingerprintsOf(groups[1]!, topic)).every((f) => f === warned.fingerprint),
      {
        message: 'segment 1 now commits with the new fingerprint',
      },
    )
  } finally {
    await warned.app.stop()
  }
  assert.ok(warned.mismatches.length >= 1 && warned.mismatches.every((m) => m.action === 'warn'))
  assert.ok(warned.handled.length > 0, 'processed anyway')
  for (const h of warned.handled) assert.equal(defaultSegmentReducer(h.key, 4), 1, 'routed with count 4')
  assert.deepEqual(
    warned.errors.filter((e) => e.fatal),
    [],
    'no fatal error',
  )
})
