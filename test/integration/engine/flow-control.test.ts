// Bounded memory: over a large backlog, a consumer that takes nothing stays within its buffer
// limits (plus at most one response per leader), measured on the heap and RSS.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

// A real GC before each reading, also when the runner did not pass --expose-gc.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

test('a consumer that takes nothing over a 200 MB backlog keeps buffers and memory within the limits', async (t) => {
  const topic = await createTopic('engine-backlog', 4)
  const value = 'x'.repeat(10_000)
  await produceRecords(topic, 20_000, {
    partitions: 4,
    batchSize: 50,
    record: (i) => ({ key: `k${i}`, value, partition: i % 4, headers: {} }),
  })
  gc()
  const before = process.memoryUsage()
  const limits = {
    maxRecordsPerPartition: 1000,
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxRecords: 2500,
    maxBytes: 6 * 1024 * 1024,
  }
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'engine-backlog',
    groupId: uniqueName('engine-backlog'),
    topics: [topic],
    buffer: limits,
    fetch: { maxPartitionBytes: 512 * 1024, maxBytes: 2 * 1024 * 1024 },
  })
  let maxBytes = 0
  let maxRecords = 0
  try {
    await consumer.start()
    const until = Date.now() + 5000
    while (Date.now() < until) {
      const b = consumer.buffered()
      maxBytes = Math.max(maxBytes, b.bytes)
      maxRecords = Math.max(maxRecords, b.records)
      await new Promise((r) => setTimeout(r, 20))
    }
    await waitUntil(() => consumer.buffered().bytes > 0, { message: 'something was fetched' })
    gc()
    const after = process.memoryUsage()
    // One response may exceed a limit by one record batch per partition (the producer's are ≤ 50 × 10 KB).
    const slack = 5 * 1024 * 1024
    assert.ok(
      maxBytes <= limits.maxBytes + slack,
      `buffered bytes ${maxBytes} within ${limits.maxBytes} + one batch`,
    )
    assert.ok(
      maxRecords <= limits.maxRecords + 500,
      `buffered records ${maxRecords} within ${limits.maxRecords} + one batch`,
    )
    t.diagnostic(
      `max buffered ${maxRecords} records / ${Math.round(maxBytes / 1e6)} MB; heap+buffers +${Math.round((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1e6)} MB, RSS +${Math.round((after.rss - before.rss) / 1e6)} MB`,
    )
    const heapGrowth = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)
    assert.ok(
      heapGrowth < 40 * 1024 * 1024,
      `heap + buffers grew ${Math.round(heapGrowth / 1e6)} MB for a 200 MB backlog`,
    )
    assert.ok(
      after.rss - before.rss < 120 * 1024 * 1024,
      `RSS grew ${Math.round((after.rss - before.rss) / 1e6)} MB`,
    )
  } finally {
    await consumer.close()
  }
})
