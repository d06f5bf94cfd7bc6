/**
 * Runs one test point: a fresh topic and group, the members, a producer at the workload's rate
 * for warm-up + measurement, lag sampled each second, then a drain until every produced record
 * is handled (or the drain times out), and the figures.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Admin } from '@platformatic/kafka'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import { segmentGroupName } from '../segments/segment-names.ts'
import { redactConfig } from './bundle.ts'
import { BenchError } from './errors.ts'
import { consumerGroupLag, type LagSampler, shareGroupLag } from './lag-sampler.ts'
import { createMembers } from './members.ts'
import { RateProducer } from './rate-producer.ts'
import { PointRecorder } from './recorder.ts'
import type { PointResult } from './results.ts'
import type { TestPoint } from './workload.ts'

/** What a running point reports about once a second. */
export interface PointProgress {
  point: string
  phase: 'starting' | 'warm-up' | 'measuring' | 'draining' | 'stopping'
  /** Seconds since production started. */
  elapsed: number
  produced: number
  done: number
  lag: number | null
}

export interface RunPointOptions {
  kafka: KafkaConnectionOptions
  /** Prefix of the point's topic and group names (unique per run). */
  runId: string
  signal?: AbortSignal
  onProgress?: (progress: PointProgress) => void
}

const ASSIGNMENT_TIMEOUT_MS = 60_000
const ASSIGNMENT_QUIET_MS = 3000

export async function runPoint(point: TestPoint, options: RunPointOptions): Promise<PointResult> {
  const { kafka, runId } = options
  const config = point.config
  const name = `${runId}-${point.name.replace(/[^a-zA-Z0-9._-]/g, '_')}`.slice(0, 200)
  const topic = `bench-${name}`
  const group = `bench-${name}`
  const bootstrap = [kafka.bootstrap].flat().flatMap((b) => b.split(','))
  const connection = {
    ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
    ...(kafka.tls ? { tls: kafka.tls === true ? {} : kafka.tls } : {}),
  }
  const admin = new Admin({
    clientId: 'multilane-bench-admin',
    bootstrapBrokers: bootstrap,
    ...connection,
  } as ConstructorParameters<typeof Admin>[0])
  const progress = (p: Omit<PointProgress, 'point'>) => options.onProgress?.({ point: point.name, ...p })
  try {
    await admin.createTopics({ topics: [topic], partitions: config.topic.partitions, replicas: 1 })
  } catch (error) {
    await admin.close()
    throw new BenchError(
      'BENCH_POINT_FAILED',
      `point "${point.name}": creating topic ${topic} failed: ${(error as Error).message}`,
      { cause: error },
    )
  }
  const warmupMs = config.producer.warmupSeconds * 1000
  const measureMs = config.producer.measureSeconds * 1000
  const recorder = new PointRecorder(warmupMs, measureMs)
  const members = createMembers(kafka, group, topic, config, recorder)
  const groups =
    config.consumers.group === 'share'
      ? [group]
      : config.consumers.segments > 1
        ? Array.from({ length: config.consumers.segments }, (_, i) =>
            segmentGroupName(group, '-parallel-', i),
          )
        : [group]
  const lag: LagSampler =
    config.consumers.group === 'share'
      ? shareGroupLag(kafka, group)
      : consumerGroupLag(kafka, topic, config.topic.partitions, groups)
  const producerErrors: string[] = []
  let producer: RateProducer | undefined
  let lagTimer: NodeJS.Timeout | undefined
  let interrupted = options.signal?.aborted ?? false
  const setupStarted = Date.now()
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  let cpuAtStart: NodeJS.CpuUsage | undefined
  let cpuStartedAt = 0
  let cpuPercent: number | null = null
  let windowOver = false
  try {
    progress({ phase: 'starting', elapsed: 0, produced: 0, done: 0, lag: null })
    await Promise.all(members.apps.map((a) => a.start()))
    // Consumer groups: produce once the assignment has settled — every partition of every
    // segment owned, and no change for a while (members joining one by one move partitions,
    // and a moved partition waits for its in-flight records: seconds with slow handlers).
    const wanted = config.topic.partitions * config.consumers.segments
    const deadline = Date.now() + ASSIGNMENT_TIMEOUT_MS
    const settled = () =>
      (members.assigned() ?? 0) >= wanted &&
      Date.now() - members.lastAssignmentChange() >= ASSIGNMENT_QUIET_MS
    while (
      config.consumers.group === 'consumer' &&
      !settled() &&
      Date.now() < deadline &&
      !options.signal?.aborted
    ) {
      await sleep(50)
    }
    // Share groups: produce once the broker can tell the group's lag — its share partitions
    // initialized. On a fresh broker the share coordinator first creates its state topic, which
    // takes seconds; without this wait that setup would fall into the first point's window.
    while (
      config.consumers.group === 'share' &&
      Date.now() < deadline &&
      !options.signal?.aborted &&
      (await lag.sample().catch(() => null)) === null
    ) {
      await sleep(250)
    }
    const t0 = Date.now() + 200
    recorder.begin(t0)
    producer = new RateProducer({
      bootstrap,
      connection,
      topic,
      config,
      onProduced: (seq, at) => recorder.produced(seq, at),
      onError: (error) => {
        if (producerErrors.length < 20) producerErrors.push(error.message)
      },
    })
    producer.start(t0)
    // This process's CPU and event loop over the window: is the bench itself the bottleneck?
    void waitUntil(recorder.windowStart, options.signal).then(() => {
      if (windowOver) return
      loopDelay.enable()
      cpuAtStart = process.cpuUsage()
      cpuStartedAt = performance.now()
    })
    let lastLag: number | null = null
    let sampling = false
    lagTimer = setInterval(() => {
      if (sampling) return
      sampling = true
      const at = Date.now()
      lag
        .sample()
        .then((value) => {
          lastLag = value
          recorder.lag(at, value)
        })
        .catch(() => recorder.lag(at, null))
        .finally(() => {
          sampling = false
        })
      const elapsed = (at - t0) / 1000
      progress({
        phase: at < recorder.windowStart ? 'warm-up' : at < recorder.windowEnd ? 'measuring' : 'draining',
        elapsed,
        produced: recorder.producedCount,
        done: recorder.doneCount,
        lag: lastLag,
      })
    }, 1000)
    // Production: until the window ends or an interrupt ends it now.
    await waitUntil(recorder.windowEnd, options.signal)
    if (options.signal?.aborted) {
      interrupted = true
      recorder.endWindowAt(Date.now())
    }
    windowOver = true
    loopDelay.disable()
    if (cpuAtStart) {
      const used = process.cpuUsage(cpuAtStart)
      cpuPercent = round(((used.user + used.system) / 1000 / (performance.now() - cpuStartedAt)) * 100)
    }
    await producer.stop(recorder.windowEnd)
    // Drain: every acknowledged record handled.
    const drainDeadline = Date.now() + config.producer.drainTimeoutSeconds * 1000
    while (!recorder.drained() && Date.now() < drainDeadline) await sleep(100)
    clearInterval(lagTimer)
    progress({
      phase: 'stopping',
      elapsed: (Date.now() - t0) / 1000,
      produced: recorder.producedCount,
      done: recorder.doneCount,
      lag: lastLag,
    })
  } catch (error) {
    throw new BenchError('BENCH_POINT_FAILED', `point "${point.name}": ${(error as Error).message}`, {
      cause: error,
    })
  } finally {
    clearInterval(lagTimer)
    await members.stop()
    await producer?.close().catch(() => {})
    await lag.close().catch(() => {})
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.close().catch(() => {})
  }
  const rates = recorder.rates()
  const lagStats = recorder.lagStats()
  const e2e = recorder.endToEnd
  const done = recorder.publishToDone
  return {
    name: point.name,
    set: point.set,
    // Results are written and shown: never the target's credentials.
    config: redactConfig(point.config),
    interrupted,
    setupSeconds: Math.round((recorder.t0 - setupStarted) / 100) / 10,
    measuredSeconds: rates.seconds,
    offeredRate: config.producer.rate,
    producedRate: round(rates.produced),
    consumedRate: round(rates.done),
    rateError: round((rates.produced - config.producer.rate) / config.producer.rate, 4),
    produced: recorder.producedCount,
    handled: recorder.doneCount,
    lost: recorder.lost(),
    duplicates: recorder.duplicates,
    injectedFailures: recorder.failures,
    endToEndMs: summary(e2e),
    publishToDoneMs: summary(done),
    lag: lagStats,
    timeline: recorder.timeline(),
    benchProcess: {
      cpuPercent,
      eventLoopDelayMs: {
        p50: loopDelay.count ? round(loopDelay.percentile(50) / 1e6) : null,
        p99: loopDelay.count ? round(loopDelay.percentile(99) / 1e6) : null,
        max: loopDelay.count ? round(loopDelay.max / 1e6) : null,
      },
    },
    errors: [...members.errors(), ...producerErrors.map((m) => `producer: ${m}`)],
    histograms: {
      endToEnd: e2e.outputPercentileDistribution(5, 1),
      publishToDone: done.outputPercentileDistribution(5, 1),
    },
  }
}

function summary(h: PointRecorder['endToEnd']) {
  if (h.totalCount === 0)
    return { count: 0, p50: null, p90: null, p99: null, p999: null, max: null, mean: null }
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: round(h.mean, 1),
  }
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Resolves at `time` (epoch ms), or at once when `signal` aborts. */
function waitUntil(time: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, Math.max(0, time - Date.now()))
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
