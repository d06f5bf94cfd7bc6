import { setTimeout as sleep } from 'node:timers/promises'
import { ShareConsumer } from './src/engine/share/share-consumer.ts'

const group = process.argv[2]!,
  topic = process.argv[3]!
const c = new ShareConsumer({
  bootstrap: '127.0.0.1:9092',
  clientId: 'probe2',
  groupId: group,
  topics: [topic],
  maxWaitMs: 200,
})
c.on('fetched', (f) => {
  if (f.acquired.length)
    console.log('fetched', JSON.stringify(f.acquired.map((a) => [a.records, a.ranges.slice(0, 2)])))
})
await c.start()
await sleep(5000)
console.log(JSON.stringify(c.stats().partitions))
await c.close()
