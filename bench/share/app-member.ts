// One no-op group member for bench/share/app-throughput.ts, in its own process (spawned with an
// IPC channel): `consumer` (app.consumerGroup), `share` (app.shareGroup) or `engine` (the bare
// ShareConsumer, accepting each record). It joins, reports `ready` once assigned, holds every
// record until the parent says `go` (so members that join later do not start behind), counts
// records, reports its count every 100 ms and, on `stop`, stops (acknowledgements flushed) and
// reports its total and the time of its last record.
//   node bench/share/app-member.ts --mode share --bootstrap h:p --topic t --group g
import { createApp, ShareConsumer } from '../../src/index.ts'
import { type FlagValue, intFlag, runCli, stringFlag, UsageError } from '../throughput/flags.ts'
import { MEMBER_CONFIG } from './member-config.ts'

type Message = { type: 'go' } | { type: 'stop' }

function required(flags: Map<string, FlagValue>, name: string): string {
  const value = stringFlag(flags, name)
  if (value === undefined) throw new UsageError(`--${name} is required`)
  return value
}

const send = (message: object) => process.send?.(message)
/** The last message: the channel closes once it is out, and the process ends. */
const finish = (message: object) => process.send?.(message, () => process.disconnect())
const now = () => performance.timeOrigin + performance.now()

await runCli(
  'app-member',
  {
    mode: { kind: 'string', required: true, description: 'consumer | share | engine' },
    bootstrap: { kind: 'string', required: true, description: 'host:port[,…]' },
    topic: { kind: 'string', required: true, description: 'topic to consume' },
    group: {
      kind: 'string',
      required: true,
      description: 'group id (a share group set to start at the earliest offset)',
    },
    'busy-us': {
      kind: 'int',
      min: 0,
      max: 1_000_000,
      description: 'CPU time the handler burns per record, synchronously, in µs (default 0: no-op)',
    },
  },
  process.argv.slice(2),
  async (flags) => {
    const mode = required(flags, 'mode')
    if (!['consumer', 'share', 'engine'].includes(mode))
      throw new UsageError(`--mode ${mode}: consumer, share or engine`)
    if (!process.send)
      throw new UsageError('run me through bench/share/app-throughput.ts (an IPC channel is needed)')
    const bootstrap = required(flags, 'bootstrap')
    const topic = required(flags, 'topic')
    const group = required(flags, 'group')
    let count = 0
    let lastAt = 0
    let go: () => void = () => {}
    let going = false
    const gate = new Promise<void>((resolve) => {
      go = resolve
    })
    let stop: () => void = () => {}
    const stopped = new Promise<void>((resolve) => {
      stop = resolve
    })
    process.on('message', (message: Message) => {
      if (message.type === 'go') {
        going = true
        go()
      } else if (message.type === 'stop') stop()
    })
    const busyUs = intFlag(flags, 'busy-us', 0)
    const handled = () => {
      // A CPU-bound handler: spins, so the time is the member's CPU, not a wait.
      if (busyUs > 0) {
        const until = performance.now() + busyUs / 1000
        while (performance.now() < until) {}
      }
      count++
      lastAt = now()
    }
    const reporter = setInterval(() => send({ type: 'count', count }), 100)

    if (mode === 'engine') {
      const consumer = new ShareConsumer({
        bootstrap,
        clientId: 'bench-share-engine',
        groupId: group,
        topics: [topic],
        maxRecords: MEMBER_CONFIG.maxPollRecords,
      })
      let failed = 0
      consumer.on('acknowledged', (e) => {
        for (const r of e.results) if (r.outcome !== 'ok') failed++
      })
      await consumer.start()
      while (consumer.assignment().length === 0) await new Promise((r) => setTimeout(r, 20))
      send({ type: 'ready' })
      await gate
      let running = true
      void stopped.then(() => {
        running = false
        consumer.interruptWait()
      })
      while (running) {
        await consumer.waitForRecords(200)
        for (const batch of consumer.takeRecords(10_000)) {
          for (const record of batch.records) {
            void consumer.acknowledge(record, 'accept')
            handled()
          }
        }
      }
      await consumer.flush()
      await consumer.close()
      clearInterval(reporter)
      finish({ type: 'done', count, lastAt, failed })
      return 0
    }

    const app = createApp({
      kafka: { bootstrap, clientId: `bench-share-${mode}` },
      logger: false,
      statisticsIntervalMs: 0,
    })
    const handler = () => {
      if (going) return handled()
      return gate.then(handled)
    }
    if (mode === 'share') {
      app.shareGroup(group, (g) => g.topic(topic, { processing: MEMBER_CONFIG, handler }))
    } else {
      app.consumerGroup(group, (g) => {
        g.options({ autoOffsetReset: 'earliest' })
        g.topic(topic, { processing: MEMBER_CONFIG, handler })
      })
    }
    let assigned = false
    app.on('partitions.assigned', () => {
      if (!assigned) send({ type: 'ready' })
      assigned = true
    })
    let failed = 0
    app.on('error.occurred', () => failed++)
    await app.start()
    await stopped
    await app.stop()
    clearInterval(reporter)
    finish({ type: 'done', count, lastAt, failed })
    return 0
  },
)
