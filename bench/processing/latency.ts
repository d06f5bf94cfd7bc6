// `npm run bench:latency`: end-to-end latency of the blocking and continuous styles on one
// sleep workload, side by side in one run (the study's effect at a small scale). For each
// style: a fresh 6-partition topic, a producer at a steady rate, handlers sleeping uniformly
// between --min-ms and --max-ms, one group member; latency = handler start − publish time.
import { Admin, Producer } from '@platformatic/kafka'
import hdr from 'hdr-histogram-js'
import { createApp, type ProcessingStyle } from '../../src/index.ts'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, intFlag, runCli, UsageError } from '../throughput/flags.ts'

const FLAGS: Record<string, FlagSpec> = {
  rate: { kind: 'int', min: 1, max: 100_000, description: 'records per second produced (default 80)' },
  seconds: { kind: 'int', min: 1, max: 3600, description: 'seconds of producing per style (default 20)' },
  'min-ms': { kind: 'int', min: 0, max: 600_000, description: 'shortest handler sleep (default 100)' },
  'max-ms': { kind: 'int', min: 0, max: 600_000, description: 'longest handler sleep (default 500)' },
  capacity: {
    kind: 'int',
    min: 1,
    max: 100_000,
    description: 'capacity, and maxPollRecords for blocking (default 50)',
  },
}

interface StyleResult {
  style: ProcessingStyle
  records: number
  p50: number
  p90: number
  p99: number
  max: number
  recordsPerSec: number
}

async function measure(
  bootstrap: string[],
  style: ProcessingStyle,
  o: { rate: number; seconds: number; minMs: number; maxMs: number; capacity: number },
): Promise<StyleResult> {
  const run = `${style}-${Date.now().toString(36)}`
  const topic = `bench-latency-${run}`
  const admin = new Admin({ clientId: 'bench-latency', bootstrapBrokers: bootstrap })
  await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 })
  await admin.close()
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000,
    numberOfSignificantValueDigits: 3,
  })
  let handled = 0
  const app = createApp({
    kafka: { bootstrap, clientId: 'bench-latency' },
    logger: false,
    statisticsIntervalMs: 0,
  })
  app.consumerGroup(`bench-latency-${run}`, (g) => {
    g.options({ autoOffsetReset: 'earliest' })
    g.topic(topic, {
      processing: {
        style,
        capacity: o.capacity,
        maxPollRecords: o.capacity,
        ordering: 'unordered',
        commitIntervalMs: 500,
      },
      handler: async (record) => {
        histogram.recordValue(Math.max(1, Date.now() - record.timestamp))
        await new Promise((r) => setTimeout(r, o.minMs + Math.random() * (o.maxMs - o.minMs)))
        handled++
      },
    })
  })
  let assigned = 0
  app.on('partitions.assigned', (e) => {
    assigned += e.partitions.length
  })
  await app.start()
  // Measure steady state: produce once all partitions are assigned and fetched.
  while (assigned < 6) await new Promise((r) => setTimeout(r, 20))
  const producer = new Producer({ clientId: 'bench-latency', bootstrapBrokers: bootstrap, idempotent: true })
  const total = o.rate * o.seconds
  const tickMs = 50
  const perTick = (o.rate * tickMs) / 1000
  const started = Date.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * o.rate) + perTick)
    const batch = []
    for (; sent < due; sent++)
      batch.push({ topic, key: Buffer.from(`k${sent}`), value: Buffer.from(`v${sent}`) })
    if (batch.length) await producer.send({ messages: batch })
    await new Promise((r) => setTimeout(r, tickMs))
  }
  await producer.close()
  while (handled < total) await new Promise((r) => setTimeout(r, 50))
  const seconds = (Date.now() - started) / 1000
  await app.stop()
  return {
    style,
    records: total,
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.maxValue,
    recordsPerSec: Math.round(total / seconds),
  }
}

await runCli('bench:latency', FLAGS, process.argv.slice(2), async (flags) => {
  const o = {
    rate: intFlag(flags, 'rate', 80),
    seconds: intFlag(flags, 'seconds', 20),
    minMs: intFlag(flags, 'min-ms', 100),
    maxMs: intFlag(flags, 'max-ms', 500),
    capacity: intFlag(flags, 'capacity', 50),
  }
  if (o.maxMs < o.minMs) throw new UsageError('--max-ms must be ≥ --min-ms')
  const broker = await ensureBroker((line) => process.stderr.write(`${line}\n`))
  const results: StyleResult[] = []
  for (const style of ['blocking', 'continuous'] as const) {
    process.stderr.write(
      `measuring ${style} (${o.rate}/s for ${o.seconds} s, handlers ${o.minMs}–${o.maxMs} ms)…\n`,
    )
    results.push(await measure(broker.bootstrap, style, o))
  }
  process.stdout.write(
    `\nend-to-end latency (handler start − publish), ${o.rate} records/s, handlers ${o.minMs}–${o.maxMs} ms, ` +
      `capacity ${o.capacity} (blocking: maxPollRecords ${o.capacity}), 6 partitions, one member\n\n` +
      '| style | records | records/s | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|\n' +
      results
        .map(
          (r) =>
            `| ${r.style} | ${r.records} | ${r.recordsPerSec} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} |`,
        )
        .join('\n') +
      `\n\nblocking / continuous p50 = ${(results[0]!.p50 / results[1]!.p50).toFixed(1)}×, ` +
      `p99 = ${(results[0]!.p99 / results[1]!.p99).toFixed(1)}×\n`,
  )
  return 0
})
