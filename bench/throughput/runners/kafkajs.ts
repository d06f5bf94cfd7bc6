// KafkaJS 2.2.4: `run({ eachBatch })` from the beginning with a fresh group, counting each
// message of a batch (reading `value.length`); auto-commit is off so no commit round-trip sits
// between batches (the other runners do not commit either).
import { Kafka, logLevel } from 'kafkajs'
import { runRunner, ThroughputMeter, uniqueGroupId } from './kit.ts'

/**
 * Fetch sizing as in the other comparison runners: at most 512 KiB per partition and 50 MiB per
 * response, minBytes 1. (KafkaJS's defaults are 1 MiB and 10 MiB; 512 KiB per partition was a
 * little faster here, ~370-450k vs ~210-330k records/s on the 1M-record topic, and larger partition
 * sizes did not help.) One partition's batch is handled at a time (partitionsConsumedConcurrently
 * 1, the default): the handler is synchronous, so more concurrency would only add scheduling.
 */
const CONFIG = {
  maxBytes: 50 * 1024 * 1024,
  maxBytesPerPartition: 512 * 1024,
  minBytes: 1,
  maxWaitTimeInMs: 500, // the Java client's fetch.max.wait.ms default
  fromBeginning: true,
  autoCommit: false,
  eachBatchAutoResolve: true,
  partitionsConsumedConcurrently: 1,
  logLevel: 'NOTHING',
}

await runRunner('kafkajs', async ({ bootstrap, topic, records }) => {
  const meter = new ThroughputMeter(records)
  const kafka = new Kafka({
    clientId: 'bench-throughput-kafkajs',
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
  })
  const consumer = kafka.consumer({
    groupId: uniqueGroupId('kafkajs'),
    maxBytes: CONFIG.maxBytes,
    maxBytesPerPartition: CONFIG.maxBytesPerPartition,
    minBytes: CONFIG.minBytes,
    maxWaitTimeInMs: CONFIG.maxWaitTimeInMs,
  })
  const crashed = new Promise<never>((_, reject) => {
    consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error))
  })
  try {
    meter.join()
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: CONFIG.fromBeginning })
    await consumer.run({
      autoCommit: CONFIG.autoCommit,
      eachBatchAutoResolve: CONFIG.eachBatchAutoResolve,
      partitionsConsumedConcurrently: CONFIG.partitionsConsumedConcurrently,
      eachBatch: async ({ batch }) => {
        let valueBytes = 0
        for (const message of batch.messages) valueBytes += message.value?.length ?? 0
        meter.add(batch.messages.length, valueBytes)
      },
    })
    await Promise.race([meter.done, crashed])
    return meter.result('kafkajs', CONFIG)
  } finally {
    meter.stop()
    await consumer.disconnect()
  }
})
