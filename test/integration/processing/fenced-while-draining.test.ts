// A member fenced while it drains a revocation treats its partitions as lost, not revoked, on
// a real broker: its handlers are aborted at once (not after revokeTimeoutMs on partitions
// others own), it commits nothing (such a commit has to fail), and it rejoins.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { EventBus } from '../../../src/instrumentation/events.ts'
import { createConsumerGroupRuntime } from '../../../src/processing/consumer-group/runtime.ts'
import { DeadLetterQueueProducer } from '../../../src/processing/dead-letter-queue.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { topicOf } from '../../support/runtime-harness.ts'

test('fenced while draining a revocation: handlers are aborted at once, nothing is committed, the member rejoins', async () => {
  const topic = await createTopic('fenced-draining', 2)
  await produceRecords(topic, 20, { partitions: 2 })
  const group = uniqueName('fenced-draining')
  const kafka = { bootstrap: bootstrapServers(), clientId: 'fenced' }
  const events = new EventBus()
  const revoked: Array<{ reason: string; at: number }> = []
  const assigned: number[] = []
  const aborted: Array<{ partition: number; at: number }> = []
  events.on('partitions.revoked', (e) => revoked.push({ reason: e.reason, at: Date.now() }))
  events.on('partitions.assigned', () => assigned.push(Date.now()))
  const deadLetters = new DeadLetterQueueProducer(kafka)
  // The first record of each partition blocks until its handler is aborted.
  const runtime = createConsumerGroupRuntime({
    member: {
      group: { name: group, segmentId: -1, segmentOrigin: group },
      label: group,
      topics: [
        topicOf({
          name: topic,
          processing: { capacity: 4 },
          handler: async (record, ctx) => {
            if (record.offset !== 0) return
            await new Promise<void>((resolve) =>
              ctx.signal.addEventListener('abort', () => {
                aborted.push({ partition: record.partition, at: Date.now() })
                resolve()
              }),
            )
          },
        }),
      ],
      // The drain would wait 60 s; the coordinator gives up on the member after 4 s.
      revokeTimeoutMs: 60_000,
      shutdownTimeoutMs: 1000,
      statisticsIntervalMs: 0,
    },
    membership: { autoOffsetReset: 'earliest', isolationLevel: 'read_uncommitted', rebalanceTimeoutMs: 4000 },
    kafka,
    events,
    logger: pino({ enabled: false }),
    deadLetters,
  })
  const { GroupConsumer } = await import('../../../src/engine/group-consumer.ts')
  const other = new GroupConsumer({ ...kafka, groupId: group, topics: [topic] })
  await runtime.start()
  try {
    await waitUntil(() => assigned.length === 1, { message: 'the first member owns both partitions' })
    await new Promise((r) => setTimeout(r, 500))
    // A second member joins: one partition is revoked from the first, whose drain blocks.
    const joined = Date.now()
    await other.start()
    await waitUntil(() => revoked.some((r) => r.reason === 'lost'), {
      timeoutMs: 40_000,
      message: 'the first member was fenced and lost its partitions',
    })
    const lost = revoked.find((r) => r.reason === 'lost')!
    // Both blocked handlers were aborted when the partitions were lost, not after 60 s.
    await waitUntil(() => aborted.length === 2, { message: 'both handlers aborted' })
    for (const a of aborted) assert.ok(a.at - joined < 30_000, `aborted ${a.at - joined} ms after the join`)
    // It rejoined: a new assignment arrived after the loss.
    await waitUntil(() => assigned.some((at) => at > lost.at), {
      timeoutMs: 30_000,
      message: 'the member rejoined and got partitions again',
    })
  } finally {
    await other.close()
    await runtime.stop()
    await deadLetters.close()
  }
})
