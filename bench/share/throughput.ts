// Share-group consumption throughput: a no-op multilane share member (the engine's
// ShareConsumer, accepting every record; and with --only …,app the same at the app level,
// app.shareGroup with the processing runtime) against Apache Kafka's own
// org.apache.kafka.tools.ShareConsumerPerformance (kafka-tools, the jars the local broker runs),
// on the same preloaded topic, each in its own process and its own fresh share group
// (share.auto.offset.reset=earliest), alternating, in one run. Prints records/s and the ratio.
//
//   node_modules/.bin/node bench/share/throughput.ts [--records N] [--bytes N] [--partitions N]
//                                                   [--repeat N] [--max-records N]
//                                                   [--only multilane,app,java]
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { configureShareGroup, findJava, kafkaVersion, resolveKafkaJars } from '../../src/index.ts'
import { ensureBroker } from '../throughput/broker.ts'
import { intFlag, listFlag, runCli, UsageError } from '../throughput/flags.ts'
import { TOPIC_FLAGS, topicParams } from '../throughput/params.ts'
import { preloadTopic } from '../throughput/preload.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const log = (line: string) => process.stderr.write(`${line}\n`)

interface Sample {
  records: number
  ms: number
  recordsPerSec: number
  detail: string
}

/** Client logging at WARN to stderr (the tool's figures go to stdout). */
const LOG4J2 = [
  'status = warn',
  'appender.err.type = Console',
  'appender.err.name = STDERR',
  'appender.err.target = SYSTEM_ERR',
  'appender.err.layout.type = PatternLayout',
  'appender.err.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = WARN',
  'rootLogger.appenderRef.err.ref = STDERR',
  '',
].join('\n')

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.once('error', reject)
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command} exited with ${code}\n${stdout}`)),
    )
  })
}

async function freshGroup(bootstrap: string[], name: string): Promise<string> {
  const groupId = `bench-share-${name}-${Date.now().toString(36)}`
  await configureShareGroup({ bootstrap, clientId: 'bench-share' }, groupId, { autoOffsetReset: 'earliest' })
  return groupId
}

async function runMultilane(
  bootstrap: string[],
  topic: string,
  records: number,
  maxRecords: number,
): Promise<Sample> {
  const group = await freshGroup(bootstrap, 'multilane')
  const node = join(ROOT, 'node_modules', '.bin', 'node')
  const out = await run(node, [
    join(import.meta.dirname, 'multilane-share-member.ts'),
    '--bootstrap',
    bootstrap.join(','),
    '--topic',
    topic,
    '--group',
    group,
    '--records',
    String(records),
    '--max-records',
    String(maxRecords),
  ])
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) throw new Error(`multilane member printed no result:\n${out}`)
  const r = JSON.parse(line) as {
    records: number
    ms: number
    recordsPerSec: number
    msAcknowledged: number
    acknowledged: number
    failed: number
    requests: number
  }
  if (r.records !== records || r.acknowledged !== records || r.failed !== 0) {
    throw new Error(`multilane member: ${r.records} taken, ${r.acknowledged} accepted, ${r.failed} failed`)
  }
  return {
    records: r.records,
    ms: r.ms,
    recordsPerSec: r.recordsPerSec,
    detail: `all accepts confirmed at ${Math.round(r.msAcknowledged)} ms; ${r.requests} requests`,
  }
}

async function runApp(
  bootstrap: string[],
  topic: string,
  records: number,
  maxRecords: number,
): Promise<Sample> {
  const group = await freshGroup(bootstrap, 'app')
  const out = await run(join(ROOT, 'node_modules', '.bin', 'node'), [
    join(import.meta.dirname, 'multilane-share-app-member.ts'),
    '--bootstrap',
    bootstrap.join(','),
    '--topic',
    topic,
    '--group',
    group,
    '--records',
    String(records),
    '--max-records',
    String(maxRecords),
  ])
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) throw new Error(`multilane app member printed no result:\n${out}`)
  const r = JSON.parse(line) as {
    records: number
    ms: number
    recordsPerSec: number
    lag: Array<number | null>
    errors: number
  }
  if (r.records !== records || r.errors !== 0 || r.lag.length === 0 || r.lag.some((l) => l !== 0)) {
    throw new Error(`multilane app member: ${r.records} handled, ${r.errors} errors, lag ${r.lag.join(',')}`)
  }
  return {
    records: r.records,
    ms: r.ms,
    recordsPerSec: r.recordsPerSec,
    detail: 'app.shareGroup; lag 0 after the stop',
  }
}

async function runJava(
  bootstrap: string[],
  topic: string,
  records: number,
  maxRecords: number,
): Promise<Sample> {
  const group = await freshGroup(bootstrap, 'java')
  const jars = resolveKafkaJars(kafkaVersion())
  const dir = mkdtempSync(join(tmpdir(), 'bench-share-java-'))
  const log4j = join(dir, 'log4j2.properties')
  writeFileSync(log4j, LOG4J2)
  const out = await run(findJava().executable, [
    // kafka-share-consumer-perf-test.sh's heap and kafka-run-class.sh's JVM options.
    '-Xmx512M',
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:MaxInlineLevel=15',
    '-Djava.awt.headless=true',
    '-Duser.language=en',
    '-Duser.country=US',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    jars.classpath,
    'org.apache.kafka.tools.ShareConsumerPerformance',
    '--bootstrap-server',
    bootstrap.join(','),
    '--topic',
    topic,
    '--group',
    group,
    '--num-records',
    String(records),
    '--timeout',
    '30000',
    '--command-property',
    `max.poll.records=${maxRecords}`,
  ])
  if (out.includes('WARNING: Exiting before consuming'))
    throw new Error(`ShareConsumerPerformance timed out:\n${out}`)
  // Header "start.time, end.time, data.consumed.in.MB, MB.sec, nMsg.sec, data.consumed.in.nMsg, fetch.time.ms".
  const lines = out.split('\n').map((l) => l.trim())
  const header = lines.findIndex((l) => l.startsWith('start.time,'))
  const values = lines
    .slice(header + 1)
    .reverse()
    .find((l) => /^\d{4}-/.test(l))
  if (header < 0 || !values) throw new Error(`ShareConsumerPerformance printed no report:\n${out}`)
  const fields = values.split(',').map((s) => s.trim())
  const consumed = Number(fields[5])
  const ms = Number(fields[6])
  if (consumed < records) throw new Error(`ShareConsumerPerformance consumed ${consumed} of ${records}`)
  return {
    records: consumed,
    ms,
    recordsPerSec: Math.round(Number(fields[4])),
    detail: `ShareConsumerPerformance ${jars.version}, implicit acknowledgement, fetch.time.ms`,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

await runCli(
  'bench/share/throughput.ts',
  {
    ...TOPIC_FLAGS,
    repeat: { kind: 'int', min: 1, max: 50, description: 'rounds, each running both consumers (default 3)' },
    'max-records': {
      kind: 'int',
      min: 1,
      max: 100_000,
      description: 'records per fetch / max.poll.records (default 500)',
    },
    only: {
      kind: 'list',
      choices: ['multilane', 'app', 'java'],
      description: 'consumers to run: multilane, app, java (default multilane,java)',
    },
  },
  process.argv.slice(2),
  async (flags) => {
    const params = topicParams(flags)
    if (!flags.has('records')) params.records = 200_000
    if (!flags.has('partitions')) params.partitions = 1
    const repeat = intFlag(flags, 'repeat', 3)
    const maxRecords = intFlag(flags, 'max-records', 500)
    const broker = await ensureBroker(log)
    const { topic } = await preloadTopic(broker.bootstrap, params, log)
    log(
      `machine: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; topic ${topic}; ${repeat} round(s)`,
    )
    type Name = 'multilane' | 'app' | 'java'
    const names = (listFlag(flags, 'only') ?? ['multilane', 'java']) as Name[]
    if (names.length === 0 || names.some((n) => !['multilane', 'app', 'java'].includes(n)))
      throw new UsageError(`--only: multilane, app and/or java (got ${names.join(',')})`)
    const samples: Record<Name, Sample[]> = { multilane: [], app: [], java: [] }
    for (let round = 1; round <= repeat; round++) {
      // Rotate which goes first, so none always gets the warmer page cache.
      const order = names.map((_, i) => names[(i + round - 1) % names.length]!)
      for (const name of order) {
        const sample =
          name === 'multilane'
            ? await runMultilane(broker.bootstrap, topic, params.records, maxRecords)
            : name === 'app'
              ? await runApp(broker.bootstrap, topic, params.records, maxRecords)
              : await runJava(broker.bootstrap, topic, params.records, maxRecords)
        samples[name].push(sample)
        log(
          `round ${round}: ${name} ${sample.recordsPerSec} records/s (${Math.round(sample.ms)} ms; ${sample.detail})`,
        )
      }
    }
    const k = (n: number) => `${Math.round(n / 1000)}k`
    const labels: Record<Name, string> = {
      multilane: 'multilane `ShareConsumer` (engine, no-op, accept per record)',
      app: 'multilane `app.shareGroup` (processing runtime, no-op handler)',
      java: 'Apache Kafka `ShareConsumerPerformance` (same jars)',
    }
    const medians = new Map(names.map((n) => [n, median(samples[n].map((s) => s.recordsPerSec))]))
    const ratio = (over: Name, under: Name) =>
      medians.has(over) && medians.has(under)
        ? `${(medians.get(over)! / medians.get(under)!).toFixed(2)}×`
        : '–'
    process.stdout.write(
      [
        `share-group consumption, ${params.records} records of ${params.bytes} B, ${params.partitions} partition(s), ` +
          `max ${maxRecords} records per fetch, one member, join included, median of ${repeat}:`,
        '',
        '| consumer | records/s (median) | samples | engine ÷ this | app ÷ this |',
        '|---|---:|---|---:|---:|',
        ...names.map(
          (n) =>
            `| ${labels[n]} | ${Math.round(medians.get(n)!)} | ${samples[n].map((s) => k(s.recordsPerSec)).join(', ')} | ${ratio('multilane', n)} | ${ratio('app', n)} |`,
        ),
        '',
      ].join('\n'),
    )
    return 0
  },
)
