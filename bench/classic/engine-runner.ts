// The throughput runner of bench/classic/throughput.ts: multilane's engine as in
// bench/throughput/runners/multilane-engine.ts (a fresh group from the earliest offsets, up to
// 10,000 records taken at a time, each counted, nothing committed), on the group protocol named
// by MULTILANE_BENCH_GROUP_PROTOCOL ('classic' or 'consumer'; the runner flags are the kit's).
import { GroupConsumer } from '../../src/index.ts'
import { runRunner, ThroughputMeter, uniqueGroupId } from '../throughput/runners/kit.ts'

const protocol = process.env.MULTILANE_BENCH_GROUP_PROTOCOL
if (protocol !== 'classic' && protocol !== 'consumer') {
  throw new Error(`MULTILANE_BENCH_GROUP_PROTOCOL must be 'classic' or 'consumer', got ${String(protocol)}`)
}

await runRunner(`multilane-${protocol}`, async ({ bootstrap, topic, records }) => {
  const meter = new ThroughputMeter(records)
  const consumer = new GroupConsumer({
    bootstrap,
    clientId: `bench-classic-${protocol}`,
    groupId: uniqueGroupId(`multilane-${protocol}`),
    topics: [topic],
    autoOffsetReset: 'earliest',
    groupProtocol: protocol,
  })
  try {
    meter.join()
    await consumer.start()
    if (consumer.groupProtocol !== protocol) throw new Error(`the member speaks ${consumer.groupProtocol}`)
    for (;;) {
      const batches = consumer.takeRecords(10_000)
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
    return meter.result(`multilane-${protocol}`, { groupProtocol: protocol, takeRecordsMax: 10_000 })
  } finally {
    meter.stop()
    await consumer.close()
  }
})
