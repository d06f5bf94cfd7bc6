// kcat (librdkafka's C client; the Debian package `kcat`) reading the whole topic: `-C -o beginning
// -e` assigns every partition directly (no group, no join, no commits) and exits once every
// partition is at its end. It prints one short line per record (`-f '%S\n'`: the value's size),
// which this runner counts and sums as it reads kcat's stdout.
//
// Timing first → last without kcat's start-up: kcat's stdout to a pipe is block-buffered (8 KiB,
// ~1,600 records a write), so the first chunk read here arrives when its k-th record was
// written; its end is the "Reached end of topic … exiting" line on stderr (unbuffered), printed
// once the last partition's end was seen, i.e. after the last record. So
//   recordsPerSec = (records − k) / (end − first chunk)      ms = records / recordsPerSec
// and msIncludingJoin = end − spawn (process start and metadata included; kcat joins no group).
// librdkafka sees a partition's end only from the next, empty fetch, which the broker holds for
// fetch.wait.max.ms when no other partition has data; it is set to 10 ms (default 500) so that
// wait does not land on the clock. While records flow, every fetch returns at once with data, so
// it changes nothing else. CPU µs/record: kcat's own user + system CPU (all its threads, from
// /proc/<pid>/stat, 10 ms ticks) over the same span, per record of it; this runner's parsing of
// kcat's output is not in it. Everything else is librdkafka's defaults (1 MiB per partition, 50 MiB
// per fetch, like the engine's defaults).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type RunnerArgs, type RunnerResult, runRunner } from './kit.ts'

const CONFIG = {
  command: 'kcat -C -o beginning -e',
  format: '%S\\n',
  'fetch.wait.max.ms': 10,
  rest: 'librdkafka defaults',
}

/** Fail when kcat prints nothing for this long. */
const STALL_MS = 60_000
const END_LINE = /^% Reached end of topic .*: exiting$/

function kcatVersion(): string {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'kcat is not installed (Debian/Ubuntu: apt-get install kcat); it is needed for this runner',
    )
  }
  const text = `${probe.stdout}${probe.stderr}`
  return /Version (\S+)/.exec(text)?.[1] ?? 'unknown'
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
function clockTicks(): number {
  const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const ticks = Number(probe.stdout?.trim())
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
}

/**
 * User + system CPU µs of a live process, all its threads (Linux `/proc/<pid>/stat`, fields 14
 * and 15 in clock ticks); undefined where there is no /proc or the process is gone.
 */
function processCpuUs(pid: number | undefined, ticks: number): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1e6
  } catch {
    return undefined
  }
}

function kcatArguments({ bootstrap, topic }: RunnerArgs): string[] {
  return [
    '-C',
    '-b',
    bootstrap.join(','),
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-X',
    `fetch.wait.max.ms=${CONFIG['fetch.wait.max.ms']}`,
    '-f',
    '%S\n',
  ]
}

async function consume(args: RunnerArgs): Promise<RunnerResult> {
  const version = kcatVersion()
  const argv = kcatArguments(args)
  process.stderr.write(`kcat ${argv.map((a) => JSON.stringify(a)).join(' ')}\n`)
  const ticks = clockTicks()
  const spawnedAt = performance.now()
  const child: ChildProcess = spawn('kcat', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  const stop = () => child.kill('SIGTERM')
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)

  let records = 0
  let valueBytes = 0
  let digits = 0
  let firstAt = 0
  let firstCount = 0
  let endAt = 0
  // kcat's CPU over the same span as the Node runners' (first record → last), read from /proc.
  let firstCpuUs: number | undefined
  let endCpuUs: number | undefined
  let lastOutputAt = performance.now()
  child.stdout!.on('data', (chunk: Buffer) => {
    const now = performance.now()
    lastOutputAt = now
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (c === 10) {
        records++
        valueBytes += digits
        digits = 0
      } else if (c >= 48 && c <= 57) digits = digits * 10 + (c - 48)
    }
    if (firstAt === 0) {
      firstAt = now
      firstCount = records
      firstCpuUs = processCpuUs(child.pid, ticks)
    }
  })
  let stderrTail = ''
  let partial = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const now = performance.now()
    lastOutputAt = now
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (END_LINE.test(line)) {
        endAt = now
        endCpuUs = processCpuUs(child.pid, ticks)
      } else if (!line.startsWith('% Reached end of topic'))
        stderrTail = `${stderrTail}${line}\n`.slice(-8192)
    }
  })
  const watchdog = setInterval(() => {
    if (performance.now() - lastOutputAt > STALL_MS) {
      process.stderr.write(`kcat stalled: ${records} of ${args.records} records, no output for 60 s\n`)
      child.kill('SIGKILL')
    }
  }, 1000)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (status) => resolve(status))
  })
  clearInterval(watchdog)
  process.off('SIGTERM', stop)
  process.off('SIGINT', stop)
  if (stderrTail) process.stderr.write(stderrTail)
  if (code !== 0) throw new Error(`kcat exited with code ${code}`)
  if (endAt === 0) throw new Error('kcat exited without reporting the end of every partition')

  const msIncludingJoin = endAt - spawnedAt
  // A small topic arrives in one or two chunks, the last at exit: too short a span to time.
  const timed = firstAt > 0 && firstAt < endAt && firstCount * 2 <= records
  const recordsPerSec = timed
    ? (records - firstCount) / ((endAt - firstAt) / 1000)
    : records / (msIncludingJoin / 1000)
  const cpuUs = firstCpuUs !== undefined && endCpuUs !== undefined ? endCpuUs - firstCpuUs : undefined
  return {
    name: 'kcat',
    records,
    ms: round(records / (recordsPerSec / 1000)),
    recordsPerSec: Math.round(recordsPerSec),
    msIncludingJoin: round(msIncludingJoin),
    recordsPerSecIncludingJoin: Math.round(records / (msIncludingJoin / 1000)),
    valueBytes,
    ...(timed && cpuUs !== undefined && cpuUs > 0
      ? { cpuUsPerRecord: Math.round((cpuUs / (records - firstCount)) * 1000) / 1000 }
      : {}),
    timing: timed
      ? `first stdout chunk (record ${firstCount}) → end of the last partition; ms extrapolated to all records`
      : 'spawn → end of the last partition (too few records for a first → last span: start-up included)',
    config: { ...CONFIG, kcat: version, args: argv.join(' ') },
    raw: {
      firstChunkRecords: firstCount,
      msFirstChunkToEnd: round(endAt - firstAt),
      msSpawnToFirstChunk: round(firstAt - spawnedAt),
    },
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

await runRunner('kcat', consume)
