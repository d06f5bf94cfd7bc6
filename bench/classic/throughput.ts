// Consumer throughput of multilane's engine on the classic group protocol ÷ on KIP-848, on one
// Kafka 4.x broker (both protocols there) and one preloaded topic: runs alternate between the
// protocols, each a child process reading the whole topic with a fresh group and counting each
// record. Prints every sample, the medians and classic ÷ consumer.
//
//   KAFKA_BOOTSTRAP_SERVERS=host:port node bench/classic/throughput.ts [--records N] [--bytes N]
//                                                                    [--partitions N] [--repeat N]
// (without KAFKA_BOOTSTRAP_SERVERS: the local development broker, started if needed)
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, type FlagValue, intFlag, runCli } from '../throughput/flags.ts'
import { TOPIC_FLAGS, topicParams } from '../throughput/params.ts'
import { preloadTopic } from '../throughput/preload.ts'
import type { RunnerResult } from '../throughput/runners/kit.ts'

const FLAGS: Record<string, FlagSpec> = {
  ...TOPIC_FLAGS,
  repeat: { kind: 'int', min: 1, max: 50, description: 'runs per protocol, alternating (default 5)' },
}

const PROTOCOLS = ['classic', 'consumer'] as const
type Protocol = (typeof PROTOCOLS)[number]
const log = (line: string) => process.stderr.write(`${line}\n`)

function runOnce(protocol: Protocol, bootstrap: string[], topic: string, records: number, bytes: number) {
  const args = [
    join(import.meta.dirname, 'engine-runner.ts'),
    '--bootstrap',
    bootstrap.join(','),
    '--topic',
    topic,
    '--records',
    String(records),
    '--bytes',
    String(bytes),
  ]
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MULTILANE_BENCH_GROUP_PROTOCOL: protocol },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c
  })
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-8192)
  })
  return new Promise<RunnerResult>((resolve, reject) => {
    child.once('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as RunnerResult)
      else reject(new Error(`the ${protocol} run exited ${code}:\n${stderr}`))
    })
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main(flags: Map<string, FlagValue>): Promise<number> {
  const params = topicParams(flags)
  const repeat = intFlag(flags, 'repeat', 5)
  const broker = await ensureBroker(log)
  const { topic } = await preloadTopic(broker.bootstrap, params, log)
  const samples = new Map<Protocol, number[]>(PROTOCOLS.map((p) => [p, []]))
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  for (let round = 1; round <= repeat; round++) {
    // Alternate which protocol goes first, so neither always runs on a warmer broker.
    const order = round % 2 === 1 ? PROTOCOLS : [...PROTOCOLS].reverse()
    for (const protocol of order) {
      const result = await runOnce(protocol, broker.bootstrap, topic, params.records, params.bytes)
      samples.get(protocol)!.push(result.recordsPerSec)
      log(`round ${round} ${protocol}: ${result.recordsPerSec} records/s (${result.ms} ms)`)
    }
  }
  const classic = samples.get('classic')!
  const consumer = samples.get('consumer')!
  const ratios = classic.map((c, i) => c / consumer[i]!)
  const lines = [
    `topic ${topic}: ${params.records} records of ${params.bytes} bytes, ${params.partitions} partitions`,
    `classic  records/s: ${classic.join(', ')} (median ${Math.round(median(classic))})`,
    `consumer records/s: ${consumer.join(', ')} (median ${Math.round(median(consumer))})`,
    `classic ÷ consumer per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
    `classic ÷ consumer (medians): ${(median(classic) / median(consumer)).toFixed(2)}`,
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

await runCli('bench/classic/throughput.ts', FLAGS, process.argv.slice(2), main)
