// The app the chaos harness (chaos/run.ts, `npm run chaos`) runs under `multilane run --processes
// 3` while it kills workers and brokers: group CHAOS_GROUP split into 3 parallel segments by the
// record key, continuous style, key ordering, capacity 100. Every handler start and finish, and
// every commit the broker accepted, is appended as one JSON line to the worker's log file
// (CHAOS_LOG_DIR/worker-<w>.jsonl, w = the swarm's MULTILANE_WORKER), written synchronously so a
// SIGKILL loses nothing already logged: the checker (chaos/checker.ts) reads them afterwards.
//
//   {"e":"s"|"f","t":…,"pid":…,"w":0,"g":"<group>-parallel-0","seg":0,"p":3,"o":1207,"a":1,"dc":1,"id":"k17-42"}
//   {"e":"c","t":…,"pid":…,"w":0,"g":"<group>-parallel-0","p":3,"o":1250}
//
// Configured from the environment: KAFKA_BOOTSTRAP_SERVERS, CHAOS_TOPIC, CHAOS_GROUP,
// CHAOS_LOG_DIR, CHAOS_WORK_MS (each record's simulated work: 0 to this many ms, default 8),
// CHAOS_STYLE (`continuous`, the default, or `blocking`) and CHAOS_GROUP_PROTOCOL (`consumer`, the
// default, KIP-848; or `classic`, with a 10 s session so a killed member's partitions move on
// sooner than the 45 s default) — scenario C runs the blocking style on the classic protocol.
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp, json } from '../../src/index.ts'
import { type ChaosPayload, chaosWorker } from './worker-log.ts'

export const SEGMENTS = 3
export const CAPACITY = 100

const { topic, group, workMs, line } = chaosWorker('examples/chaos/app.ts', 8)

function oneOf<T extends string>(name: string, values: readonly T[]): T {
  const value = process.env[name] ?? values[0]!
  if (!values.includes(value as T))
    throw new Error(
      `examples/chaos/app.ts: ${name} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
    )
  return value as T
}
const style = oneOf('CHAOS_STYLE', ['continuous', 'blocking'] as const)
const groupProtocol = oneOf('CHAOS_GROUP_PROTOCOL', ['consumer', 'classic'] as const)

const app = createApp({ kafka: { clientId: 'chaos' } })

app.consumerGroup(group, (g) => {
  if (groupProtocol === 'classic') g.options({ groupProtocol, sessionTimeoutMs: 10_000 })
  g.parallelSegments({ count: SEGMENTS, partitioner: (record) => record.key })
  g.topic(topic, {
    deserializer: json<ChaosPayload>(),
    processing: { style, capacity: CAPACITY, ordering: 'key' },
    handler: async (record, ctx) => {
      const entry = {
        g: ctx.consumerGroup.name,
        seg: ctx.consumerGroup.segmentId,
        p: record.partition,
        o: record.offset,
        a: ctx.attempt,
        dc: record.deliveryCount,
        id: record.payload?.id,
      }
      line({ e: 's', ...entry })
      // Work that takes a while, so records are in flight when a worker dies.
      if (workMs > 0) await sleep(Math.random() * workMs)
      line({ e: 'f', ...entry })
    },
  })
})

// The protocol each segment group's member spoke: the harness checks it is the one asked for.
app.on('group.protocol_chosen', (event) =>
  line({ e: 'protocol', g: event.consumerGroup, protocol: event.protocol }),
)
app.on('offsets.committed', (event) => {
  for (const o of event.offsets) line({ e: 'c', g: event.consumerGroup, p: o.partition, o: o.offset })
})
app.on('partitions.assigned', (event) =>
  line({ e: 'assigned', g: event.consumerGroup, p: event.partitions.map((p) => p.partition) }),
)
app.on('partitions.revoked', (event) =>
  line({
    e: 'revoked',
    g: event.consumerGroup,
    p: event.partitions.map((p) => p.partition),
    r: event.reason,
  }),
)

export default app
