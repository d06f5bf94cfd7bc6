// multilane's own consumer engine (src/engine/group-consumer.ts): join a fresh group from the
// earliest offsets, then take up to 10,000 records at a time, waiting only when none are buffered,
// and count each record (reading `value.length`). No offsets are committed.
import { GroupConsumer } from '../../../src/index.ts'
import { runRunner, ThroughputMeter, uniqueGroupId } from './kit.ts'

/** What the benchmark needs from a `takeRecords()` batch (the engine may return more). */
type TakenBatches = ReadonlyArray<{ readonly records: ReadonlyArray<{ readonly value: Buffer | null }> }>

const CONFIG = {
  autoOffsetReset: 'earliest',
  takeRecordsMax: 10_000,
  commits: 'none',
}

await runRunner('multilane', async ({ bootstrap, topic, records }) => {
  const meter = new ThroughputMeter(records)
  const consumer = new GroupConsumer({
    bootstrap,
    clientId: 'bench-throughput-multilane',
    groupId: uniqueGroupId('multilane'),
    topics: [topic],
    autoOffsetReset: 'earliest',
  })
  try {
    meter.join()
    await consumer.start()
    for (;;) {
      const batches: TakenBatches = consumer.takeRecords(CONFIG.takeRecordsMax)
      if (batches.length === 0) {
        await consumer.waitForRecords()
        continue
      }
      let count = 0
      let valueBytes = 0
      for (const batch of batches) {
        for (const record of batch.records) {
          count++
          valueBytes += record.value?.length ?? 0
        }
      }
      if (meter.add(count, valueBytes)) break
    }
    return meter.result('multilane', CONFIG)
  } finally {
    meter.stop()
    await consumer.close()
  }
})
