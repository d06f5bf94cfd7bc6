// multilane's processing runtime with a no-op handler (createApp, one consumer group): the
// cost of dispatch, ordering, offset tracking and commits on top of the bare engine.

import { createApp, type ProcessingStyle } from '../../../src/index.ts'
import { runRunner, ThroughputMeter, uniqueGroupId } from './kit.ts'

export function runAppRunner(name: string, style: ProcessingStyle): Promise<void> {
  const config = {
    style,
    ordering: 'unordered',
    capacity: 1000,
    maxPollRecords: 1000,
    commitIntervalMs: 1000,
  } as const
  return runRunner(name, async ({ bootstrap, topic, records }) => {
    const meter = new ThroughputMeter(records)
    const app = createApp({
      kafka: { bootstrap, clientId: `bench-throughput-${name}` },
      logger: false,
      statisticsIntervalMs: 0,
    })
    app.consumerGroup(uniqueGroupId(name), (g) => {
      g.options({ autoOffsetReset: 'earliest' })
      g.topic(topic, {
        processing: config,
        handler: (record) => {
          meter.add(1, record.value?.length ?? 0)
        },
      })
    })
    try {
      meter.join()
      await app.start()
      await meter.done
      return meter.result(name, config)
    } finally {
      meter.stop()
      await app.stop()
    }
  })
}
