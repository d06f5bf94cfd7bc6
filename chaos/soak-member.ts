// One member of the soak (chaos/soak.ts), in a process of its own so its RSS is its own: a
// consumer group, a group of parallel segments (all its segments in this process) or a share
// group, reading a preloaded backlog with a slow handler (an async wait of `handlerMs` per
// record, continuous style). The parent forks it with one argument, the MemberSpec as JSON, and
// talks over IPC: every `sampleMs` the member sends a MemberSample; on `{ type: 'stop' }` it stops
// the app (in-flight handlers finish) and exits 0.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapSpaceStatistics } from 'node:v8'
import { createApp } from '../src/index.ts'

export type SoakKind = 'consumer' | 'segments' | 'share'

export interface MemberSpec {
  kind: SoakKind
  bootstrap: string[]
  topic: string
  /** The group (for segments, the origin group: its segment groups are `<group>-parallel-<i>`). */
  group: string
  /** In-flight capacity of the topic, per group member (each segment is one). */
  capacity: number
  /** Segments in this process (kind `segments` only). */
  segments: number
  /** The handler's async wait per record. */
  handlerMs: number
  sampleMs: number
}

export interface MemberSample {
  type: 'sample'
  /** Milliseconds since the member started its app. */
  atMs: number
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  /** Resident bytes of V8's young generation (`new_space`) and of its old space: what RSS is made of. */
  newSpace: number
  oldSpace: number
  /** Event-loop delay over the sample's window, in ms (perf_hooks.monitorEventLoopDelay). */
  eldP99Ms: number
  eldMaxMs: number
  /** Records handled since the start. */
  handled: number
  /** `error.occurred` events since the start. */
  errors: number
}

export type FromMember = MemberSample | { type: 'started' }
export type ToMember = { type: 'stop' }

function main(spec: MemberSpec): void {
  const app = createApp({
    kafka: { bootstrap: spec.bootstrap, clientId: `soak-${spec.kind}` },
    logger: false,
  })
  let handled = 0
  let errors = 0
  const handler = async () => {
    await sleep(spec.handlerMs)
    handled++
  }
  if (spec.kind === 'share') {
    app.shareGroup(spec.group, (g) => {
      g.options({ autoOffsetReset: 'earliest' })
      g.topic(spec.topic, {
        processing: { style: 'continuous', capacity: spec.capacity, ordering: 'unordered' },
        handler,
      })
    })
  } else {
    app.consumerGroup(spec.group, (g) => {
      g.options({ autoOffsetReset: 'earliest' })
      if (spec.kind === 'segments')
        g.parallelSegments({ count: spec.segments, partitioner: (record) => record.key })
      // Key ordering over a backlog of distinct keys: lanes per key is what an app keyed by
      // user or order id does, and what must not accumulate.
      g.topic(spec.topic, {
        processing: { style: 'continuous', capacity: spec.capacity, ordering: 'key' },
        // 16 lanes per partition (the default) would cap the 6 partitions at 96 in flight.
        virtualPartitions: { maxPartitions: 128 },
        handler,
      })
    })
  }
  app.on('error.occurred', () => {
    errors++
  })

  // One histogram per sample window (reset after each sample).
  const eld = monitorEventLoopDelay({ resolution: 10 })
  eld.enable()
  const startedAt = performance.now()
  const send = (message: FromMember) => process.send?.(message)
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    const spaces = getHeapSpaceStatistics()
    const physical = (name: string) => spaces.find((s) => s.space_name === name)?.physical_space_size ?? 0
    send({
      type: 'sample',
      atMs: Math.round(performance.now() - startedAt),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      newSpace: physical('new_space'),
      oldSpace: physical('old_space'),
      eldP99Ms: eld.percentile(99) / 1e6,
      eldMaxMs: eld.max / 1e6,
      handled,
      errors,
    })
    eld.reset()
  }, spec.sampleMs)

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    clearInterval(sampler)
    eld.disable()
    await app.stop()
    process.exit(0)
  }
  process.on('message', (message: ToMember) => {
    if (message.type === 'stop') void stop()
  })
  // The parent died: stop rather than linger as an orphan.
  process.on('disconnect', () => void stop())

  app
    .start()
    .then(() => send({ type: 'started' }))
    .catch((error: unknown) => {
      process.stderr.write(`soak member ${spec.kind}: ${(error as Error).stack ?? String(error)}\n`)
      process.exit(1)
    })
}

if (import.meta.main) main(JSON.parse(process.argv[2] ?? '') as MemberSpec)
