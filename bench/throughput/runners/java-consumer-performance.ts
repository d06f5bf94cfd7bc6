// Apache Kafka's own consumer benchmark, `org.apache.kafka.tools.ConsumerPerformance` (what
// `bin/kafka-consumer-perf-test.sh` runs), from the broker's jars with the JVM options that script
// uses. Its final CSV line is parsed into the runners' JSON shape, using the tool's own timing:
//   ms            = fetch.time.ms  (from the group assignment to the last record)
//   recordsPerSec = fetch.nMsg.sec (records / fetch.time.ms)
//   msIncludingJoin = rebalance.time.ms + fetch.time.ms (from subscribe to the last record)
//   recordsPerSecIncludingJoin = nMsg.sec
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findJava, kafkaVersion, resolveKafkaJars } from '../../../src/index.ts'
import { type RunnerArgs, type RunnerResult, runRunner, uniqueGroupId } from './kit.ts'

/** `kafka-consumer-perf-test.sh` sets -Xmx512M; the rest is `kafka-run-class.sh`'s default. */
const JVM_OPTIONS = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
  // The tool formats its figures with the default locale; pin one that writes "1234.5678".
  '-Duser.language=en',
  '-Duser.country=US',
]

const MAIN_CLASS = 'org.apache.kafka.tools.ConsumerPerformance'

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

/**
 * The tool's arguments. Fetch sizing as in the other comparison runners: --fetch-size 512 KiB
 * (max.partition.fetch.bytes; the tool's default is 1 MiB, which measured the same within noise)
 * and the client's default fetch.max.bytes of 50 MiB. Auto-commit is turned off like in the other
 * runners. The tool itself sets check.crcs=false; neither Node client checks CRCs when reading.
 */
function toolArguments({ bootstrap, topic, records }: RunnerArgs, group: string): string[] {
  return [
    '--bootstrap-server',
    bootstrap.join(','),
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--group',
    group,
    '--timeout',
    '60000',
    '--fetch-size',
    String(512 * 1024),
    '--command-property',
    'enable.auto.commit=false',
  ]
}

/** The figures of the tool's final report, by header name (e.g. `fetch.nMsg.sec`). */
function parseReport(stdout: string): Map<string, string> {
  const lines = stdout.split('\n').map((l) => l.trim())
  const at = lines.findIndex((l) => l.startsWith('start.time,'))
  const values = at === -1 ? undefined : lines.slice(at + 1).find((l) => l.includes(','))
  if (at === -1 || values === undefined) throw new Error('ConsumerPerformance printed no report line')
  const names = lines[at]!.split(',').map((s) => s.trim())
  const fields = values.split(',').map((s) => s.trim())
  if (fields.length !== names.length) {
    throw new Error(
      `ConsumerPerformance report has ${fields.length} fields, header ${names.length}: ${values}`,
    )
  }
  return new Map(names.map((name, i) => [name, fields[i]!]))
}

function numberField(report: Map<string, string>, name: string): number {
  const value = Number(report.get(name))
  if (report.get(name) === undefined || !Number.isFinite(value)) {
    throw new Error(`ConsumerPerformance report has no numeric ${name}: ${report.get(name)}`)
  }
  return value
}

async function consume(args: RunnerArgs): Promise<RunnerResult> {
  const java = findJava()
  const jars = resolveKafkaJars(kafkaVersion())
  const dir = mkdtempSync(join(tmpdir(), 'bench-java-'))
  const log4j = join(dir, 'log4j2.properties')
  writeFileSync(log4j, LOG4J2)
  const group = uniqueGroupId('java')
  const command = [
    ...JVM_OPTIONS,
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    jars.classpath,
    MAIN_CLASS,
    ...toolArguments(args, group),
  ]
  process.stderr.write(`${java.executable} ${command.join(' ')}\n`)
  try {
    const child = spawn(java.executable, command, { stdio: ['ignore', 'pipe', 'inherit'] })
    const stop = () => child.kill('SIGTERM')
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (status) => resolve(status))
    })
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    process.stderr.write(stdout)
    if (code !== 0) throw new Error(`ConsumerPerformance exited with code ${code}`)
    if (stdout.includes('WARNING: Exiting before consuming')) {
      throw new Error('ConsumerPerformance timed out before consuming every record')
    }
    const report = parseReport(stdout)
    const records = numberField(report, 'data.consumed.in.nMsg')
    const rebalanceMs = numberField(report, 'rebalance.time.ms')
    const fetchMs = numberField(report, 'fetch.time.ms')
    return {
      name: 'java',
      records,
      ms: fetchMs,
      recordsPerSec: Math.round(numberField(report, 'fetch.nMsg.sec')),
      msIncludingJoin: rebalanceMs + fetchMs,
      recordsPerSecIncludingJoin: Math.round(numberField(report, 'nMsg.sec')),
      // The tool's byte count includes keys; every value is `bytes` long.
      valueBytes: records * args.bytes,
      timing: 'ConsumerPerformance fetch.time.ms / fetch.nMsg.sec (group assignment → last record)',
      config: {
        tool: MAIN_CLASS,
        kafkaJars: jars.version,
        jvm: JVM_OPTIONS.join(' '),
        args: toolArguments(args, '<group>').join(' '),
        java: java.versionLine,
      },
      raw: Object.fromEntries(report),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await runRunner('java', consume)
