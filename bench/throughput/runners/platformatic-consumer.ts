// @platformatic/kafka's Consumer: `consume()` a MessagesStream from the earliest offsets with
// autocommit off, and count each message (reading `value.length`) as the stream emits it.
import { Consumer, type Message, MessagesStreamModes } from '@platformatic/kafka'
import { runRunner, ThroughputMeter, uniqueGroupId } from './kit.ts'

/**
 * The settings used, all documented consumer/consume options. The comparison runners (this,
 * KafkaJS, Java) all fetch at most 512 KiB per partition and 50 MiB per response (the Java client's
 * fetch.max.bytes default). This matters a lot here: with the library's defaults
 * (maxBytesPerPartition = maxBytes = 50 MiB, highWaterMark 1,024) the 1M-record run managed ~100k
 * records/s, with 1 MiB per partition ~400k, with 512 KiB or 256 KiB ~450-550k (on 2 CPUs beside
 * the broker). The stream buffers up to 10,000 messages so a whole fetch response fits and the next
 * fetch goes out before the application drains it. Messages are taken from 'data' events, which
 * beat `for await` on the stream (~230k vs ~330k records/s at 1 MiB per partition).
 */
const CONFIG = {
  maxBytes: 50 * 1024 * 1024,
  maxBytesPerPartition: 512 * 1024,
  minBytes: 1,
  maxWaitTime: 500, // the Java client's fetch.max.wait.ms default
  highWaterMark: 10_000,
  autocommit: false,
  mode: MessagesStreamModes.EARLIEST,
  delivery: "stream 'data' events",
}

await runRunner('platformatic', async ({ bootstrap, topic, records }) => {
  const meter = new ThroughputMeter(records)
  const consumer = new Consumer({
    clientId: 'bench-throughput-platformatic',
    groupId: uniqueGroupId('platformatic'),
    bootstrapBrokers: bootstrap,
    maxWaitTime: CONFIG.maxWaitTime,
    minBytes: CONFIG.minBytes,
  })
  try {
    meter.join()
    const stream = await consumer.consume({
      topics: [topic],
      mode: CONFIG.mode,
      autocommit: CONFIG.autocommit,
      maxBytes: CONFIG.maxBytes,
      maxBytesPerPartition: CONFIG.maxBytesPerPartition,
      highWaterMark: CONFIG.highWaterMark,
    })
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject)
      stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
        if (meter.add(1, message.value?.length ?? 0)) resolve()
      })
    })
    await stream.close()
    return meter.result('platformatic', CONFIG)
  } finally {
    meter.stop()
    await consumer.close(true)
  }
})
