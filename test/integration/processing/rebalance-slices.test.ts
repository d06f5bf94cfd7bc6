// A rebalance that lands while a member's takes are dispatched slice by slice (a CPU-bound
// virtual-partitions partitioner makes every take span many time slices): a second member joins
// mid-backlog and takes partitions over from the first. Every record is handled at least once
// by one of them and the group commits at the log end: the rest of a take cut by the revocation
// is neither committed past nor lost. Counted on the real broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { waitCommittedAtEnd } from '../../support/segment-processing.ts'

const PARTITIONS = 4
const RECORDS = 600

function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin: a CPU-bound partitioner call
  }
}

test('a member joining while the first dispatches takes slice by slice: every record handled, committed at the log end', async () => {
  const topic = await createTopic('rebalance-slices', PARTITIONS)
  await produceRecords(topic, RECORDS, { partitions: PARTITIONS })
  const group = uniqueName('rebalance-slices')
  const handled = new Map<string, number>()
  const byMember = [0, 0]
  const assignedTo = [0, 0]
  const member = (i: number) => {
    const app = createApp({
      kafka: { bootstrap: bootstrapServers(), clientId: `slices-${i}` },
      logger: false,
    })
    app.consumerGroup(group, (g) =>
      g.topic(topic, {
        processing: { ordering: 'key', capacity: 8, maxPollRecords: 200 },
        virtualPartitions: {
          partitioner: (r) => {
            busy(3)
            return r.keyString
          },
        },
        handler: (record) => {
          const k = `${record.partition}:${record.offset}`
          handled.set(k, (handled.get(k) ?? 0) + 1)
          byMember[i]!++
        },
      }),
    )
    app.on('partitions.assigned', (e) => {
      assignedTo[i]! += e.partitions.length
    })
    return app
  }
  const a = member(0)
  const b = member(1)
  await a.start()
  try {
    await waitUntil(() => byMember[0]! >= 50, { timeoutMs: 60_000, message: 'the first member is under way' })
    await b.start()
    await waitUntil(() => assignedTo[1]! > 0, {
      timeoutMs: 60_000,
      message: 'the second member takes partitions over',
    })
    await waitUntil(() => handled.size === RECORDS, {
      timeoutMs: 180_000,
      message: `every record handled (${handled.size} of ${RECORDS})`,
    })
    await waitCommittedAtEnd([group], topic, PARTITIONS, 120_000)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
  assert.ok(byMember[1]! > 0, 'the second member handled records of the partitions it took over')
})
