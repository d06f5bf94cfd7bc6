// The app scenario B of the chaos harness (chaos/scenario-b.ts, `npm run chaos -- --scenario b`)
// runs under `multilane run --processes 4` while it kills and freezes workers and brokers: share
// group CHAOS_GROUP (each worker a member), continuous style, capacity 20. Every handler start and
// finish, and every share event about a record (lock lost, released, rejected) and error, is
// appended as one JSON line to the worker's log file (CHAOS_LOG_DIR/worker-<w>.jsonl), written
// synchronously so a SIGKILL loses nothing already logged: the checker
// (chaos/share-checker.ts) reads them afterwards.
//
//   {"e":"s"|"f","g":"<group>","p":3,"o":1207,"a":1,"dc":1,"id":"k17-42","t":…,"pid":…,"w":0}
//   {"e":"lost","g":"<group>","p":3,"o":1207,"dc":1,"r":"<reason>","t":…,"pid":…,"w":0}
//   {"e":"rel"|"rej","g":"<group>","p":3,"o":1207,"dc":1,"t":…,"pid":…,"w":0}
//   {"e":"err","type":"share.acknowledge.error","p":3,"o":1207,"m":"<message>","t":…,"pid":…,"w":0}
//
// Configured from the environment: KAFKA_BOOTSTRAP_SERVERS, CHAOS_TOPIC, CHAOS_GROUP,
// CHAOS_LOG_DIR, CHAOS_WORK_MS (each record's simulated work: 0 to this many ms, default 40, so
// members have records running when they are killed or frozen).
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp, json } from '../../src/index.ts'
import { type ChaosPayload, chaosWorker } from './worker-log.ts'

export const CAPACITY = 20

const { topic, group, workMs, line } = chaosWorker('examples/chaos/share-app.ts', 40)

const app = createApp({ kafka: { clientId: 'chaos-share' } })

app.shareGroup(group, (g) => {
  g.topic(topic, {
    deserializer: json<ChaosPayload>(),
    processing: { style: 'continuous', capacity: CAPACITY },
    handler: async (record, ctx) => {
      const entry = {
        g: ctx.consumerGroup.name,
        p: record.partition,
        o: record.offset,
        a: ctx.attempt,
        dc: record.deliveryCount,
        id: record.payload?.id,
      }
      line({ e: 's', ...entry })
      // Work that takes a while, so records are in flight when a member dies or freezes.
      if (workMs > 0) await sleep(Math.random() * workMs)
      line({ e: 'f', ...entry })
    },
  })
})

app.on('share.lock_lost', (e) =>
  line({ e: 'lost', g: e.consumerGroup, p: e.partition, o: e.offset, dc: e.deliveryCount, r: e.reason }),
)
app.on('share.released', (e) =>
  line({ e: 'rel', g: e.consumerGroup, p: e.partition, o: e.offset, dc: e.deliveryCount }),
)
app.on('share.rejected', (e) =>
  line({ e: 'rej', g: e.consumerGroup, p: e.partition, o: e.offset, dc: e.deliveryCount }),
)
app.on('error.occurred', (e) =>
  line({ e: 'err', type: e.type, p: e.partition, o: e.offset, m: e.error.message.slice(0, 300) }),
)

export default app
