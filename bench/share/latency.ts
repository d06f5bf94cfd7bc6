// End-to-end latency of share-group consumption, blocking against continuous, on a small sleep
// workload (the seed study's comparison, scaled to one machine), side by side in one run. Each
// variant, each round: a fresh 1-partition topic and share group, `--members` app members (one
// process: they mostly sleep), a producer at a steady `--rate`, handlers sleeping uniformly
// between `--min-ms` and `--max-ms`; latency = handler start − the record's produce timestamp,
// in an HDR histogram. Variants: blocking with record_limit (the seed's sg-blocking: no fetch
// ahead), blocking with batch_optimized, continuous. Rounds rotate the order; medians.
//
//   node_modules/.bin/node bench/share/latency.ts [--rate 100] [--seconds 30] [--min-ms 50]
//       [--max-ms 250] [--capacity 40] [--members 2] [--repeat 3]
import { Admin, Producer } from '@platformatic/kafka'
import hdr from 'hdr-histogram-js'
import { type App, configureShareGroup, createApp, describeShareGroup } from '../../src/index.ts'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, intFlag, listFlag, runCli, UsageError } from '../throughput/flags.ts'

const log = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const FLAGS: Record<string, FlagSpec> = {
  rate: { kind: 'int', min: 1, max: 100_000, description: 'records per second produced (default 100)' },
  seconds: {
    kind: 'int',
    min: 1,
    max: 3600,
    description: 'seconds of producing per variant and round (default 30)',
  },
  'min-ms': { kind: 'int', min: 0, max: 600_000, description: 'shortest handler sleep (default 50)' },
  'max-ms': { kind: 'int', min: 0, max: 600_000, description: 'longest handler sleep (default 250)' },
  capacity: { kind: 'int', min: 1, max: 100_000, description: 'capacity, and maxPollRecords (default 40)' },
  members: { kind: 'int', min: 1, max: 64, description: 'share members per variant (default 2)' },
  repeat: { kind: 'int', min: 1, max: 50, description: 'rounds (default 3)' },
  only: {
    kind: 'list',
    choices: ['blocking-record-limit', 'blocking-batch', 'continuous'],
    description: 'variants (default all: blocking-record-limit,blocking-batch,continuous)',
  },
}

interface Variant {
  id: string
  name: string
  style: 'blocking' | 'continuous'
  acquireMode: 'batch_optimized' | 'record_limit'
}

const VARIANTS: Variant[] = [
  {
    id: 'blocking-record-limit',
    name: 'blocking, record_limit',
    style: 'blocking',
    acquireMode: 'record_limit',
  },
  {
    id: 'blocking-batch',
    name: 'blocking, batch_optimized',
    style: 'blocking',
    acquireMode: 'batch_optimized',
  },
  { id: 'continuous', name: 'continuous', style: 'continuous', acquireMode: 'batch_optimized' },
]

interface Options {
  rate: number
  seconds: number
  minMs: number
  maxMs: number
  capacity: number
  members: number
}

interface Sample {
  p50: number
  p99: number
  max: number
  recordsPerSec: number
}

async function measure(bootstrap: string[], variant: Variant, o: Options): Promise<Sample> {
  const run = `${variant.style}-${variant.acquireMode}-${Date.now().toString(36)}`
  const topic = `bench-share-latency-${run}`
  const group = `bench-share-latency-${run}`
  const admin = new Admin({ clientId: 'bench-share-latency', bootstrapBrokers: bootstrap })
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
  } finally {
    await admin.close()
  }
  const kafka = { bootstrap, clientId: 'bench-share-latency' }
  await configureShareGroup(kafka, group, { autoOffsetReset: 'earliest' })
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  })
  const seen = new Set<number>()
  let duplicates = 0
  let assigned = 0
  const apps: App[] = []
  for (let i = 0; i < o.members; i++) {
    const app = createApp({ kafka, logger: false, statisticsIntervalMs: 0 })
    app.shareGroup(group, (g) => {
      g.options({ acquireMode: variant.acquireMode })
      g.topic(topic, {
        processing: {
          style: variant.style,
          capacity: o.capacity,
          maxPollRecords: o.capacity,
          ordering: 'unordered',
        },
        handler: async (record) => {
          histogram.recordValue(Math.max(1, Date.now() - record.timestamp))
          if (seen.has(record.offset)) duplicates++
          seen.add(record.offset)
          await sleep(o.minMs + Math.random() * (o.maxMs - o.minMs))
        },
      })
    })
    app.on('partitions.assigned', () => assigned++)
    apps.push(app)
  }
  await Promise.all(apps.map((a) => a.start()))
  try {
    // Measure steady state: produce once every member is assigned (and fetching).
    while (assigned < o.members) await sleep(20)
    const producer = new Producer({
      clientId: 'bench-share-latency',
      bootstrapBrokers: bootstrap,
      idempotent: true,
    })
    const total = o.rate * o.seconds
    const tickMs = 20
    const started = Date.now()
    let sent = 0
    try {
      while (sent < total) {
        const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * o.rate))
        const batch = []
        for (; sent < due; sent++)
          batch.push({ topic, partition: 0, key: Buffer.from(`k${sent}`), value: Buffer.from(`v${sent}`) })
        if (batch.length) await producer.send({ messages: batch })
        await sleep(tickMs)
      }
    } finally {
      await producer.close()
    }
    const deadline = Date.now() + 120_000
    while (seen.size < total) {
      if (Date.now() > deadline)
        throw new Error(`${variant.name}: ${seen.size} of ${total} handled after 120 s`)
      await sleep(20)
    }
    const seconds = (Date.now() - started) / 1000
    await Promise.all(apps.map((a) => a.stop()))
    const d = await describeShareGroup(kafka, group)
    const lag = d.partitions[0]?.lag
    if (lag !== 0) throw new Error(`${variant.name}: share group lag ${lag} after the run`)
    if (duplicates > 0) log(`  (${variant.name}: ${duplicates} records handled twice)`)
    const sample = {
      p50: histogram.getValueAtPercentile(50),
      p99: histogram.getValueAtPercentile(99),
      max: histogram.maxValue,
      recordsPerSec: Math.round(total / seconds),
    }
    log(
      `  ${variant.name}: p50 ${sample.p50} ms, p99 ${sample.p99} ms, max ${sample.max} ms, ${sample.recordsPerSec}/s`,
    )
    return sample
  } finally {
    await Promise.all(apps.map((a) => a.stop()))
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

await runCli('bench/share/latency.ts', FLAGS, process.argv.slice(2), async (flags) => {
  const o: Options = {
    rate: intFlag(flags, 'rate', 100),
    seconds: intFlag(flags, 'seconds', 30),
    minMs: intFlag(flags, 'min-ms', 50),
    maxMs: intFlag(flags, 'max-ms', 250),
    capacity: intFlag(flags, 'capacity', 40),
    members: intFlag(flags, 'members', 2),
  }
  const repeat = intFlag(flags, 'repeat', 3)
  if (o.maxMs < o.minMs) throw new UsageError('--max-ms must be ≥ --min-ms')
  const only = listFlag(flags, 'only')
  const variants = only ? VARIANTS.filter((v) => only.includes(v.id)) : VARIANTS
  if (variants.length === 0 || (only && variants.length !== only.length))
    throw new UsageError(`--only: ${VARIANTS.map((v) => v.id).join(', ')}`)
  const broker = await ensureBroker(log)
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]))
  for (let round = 0; round < repeat; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!)
    log(`round ${round + 1}: ${order.map((v) => v.name).join('; ')}`)
    for (const variant of order) samples.get(variant.name)!.push(await measure(broker.bootstrap, variant, o))
  }
  const med = (name: string, key: keyof Sample) => median(samples.get(name)!.map((s) => s[key]))
  const continuous = variants.some((v) => v.id === 'continuous') ? 'continuous' : undefined
  const times = (name: string, key: 'p50' | 'p99') =>
    continuous ? `${(med(name, key) / med(continuous, key)).toFixed(1)}×` : '–'
  process.stdout.write(
    [
      `share group end-to-end latency (handler start − produce timestamp), ${o.rate} records/s for ${o.seconds} s, ` +
        `handlers ${o.minMs}–${o.maxMs} ms, capacity ${o.capacity} (blocking: maxPollRecords ${o.capacity}), ` +
        `1 partition, ${o.members} member(s), median of ${repeat} rounds:`,
      '',
      '| variant | records/s | p50 ms | p99 ms | max ms | p50 ÷ continuous | p99 ÷ continuous |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...variants.map(
        (v) =>
          `| ${v.name} | ${med(v.name, 'recordsPerSec')} | ${med(v.name, 'p50')} | ${med(v.name, 'p99')} | ${med(v.name, 'max')} | ` +
          `${times(v.name, 'p50')} | ${times(v.name, 'p99')} |`,
      ),
      '',
    ].join('\n'),
  )
  return 0
})
