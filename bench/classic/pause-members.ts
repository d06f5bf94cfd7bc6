// The group members bench/classic/rebalance-pause.ts compares, behind one small interface:
// multilane's engine on the classic protocol (cooperative-sticky) or on KIP-848, and KafkaJS 2.2.4
// (classic protocol, eager: its only rebalance style). Each handles records one at a time (a
// handler awaiting `handlerMs`, none when 0), calls `onRecord(partition, member)` when it handled
// one, and reports the partitions it owns now.
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import { GroupConsumer } from '../../src/index.ts'

export type PauseClient = 'multilane-classic' | 'multilane-kip848' | 'kafkajs'

export interface PauseMember {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
  /** The partitions the member owns now (KafkaJS: from its last GROUP_JOIN, empty while rejoining). */
  owned(): number[]
  /** When the member gave partitions up (revoked, lost, or all of them before an eager rejoin). */
  readonly gaveUp: Array<{ at: number; partitions: number[] }>
}

export interface MemberSpec {
  client: PauseClient
  name: string
  bootstrap: string[]
  groupId: string
  topic: string
  onRecord: (partition: number, member: string) => void
  /** What handling one record takes (awaited; 0: nothing). */
  handlerMs: number
}

export function createMember(spec: MemberSpec): PauseMember {
  return spec.client === 'kafkajs' ? kafkaJsMember(spec) : multilaneMember(spec)
}

/**
 * The engine with a take loop as an app's would be: records handled as taken, positions committed
 * every 200 ms and, for revoked partitions, in the revoke hook.
 */
/** What GroupConsumer.commit takes, one partition's entry. */
type OffsetToCommit = Parameters<GroupConsumer['commit']>[0][number]

function multilaneMember(spec: MemberSpec): PauseMember {
  const next = new Map<number, OffsetToCommit>()
  const consumer: GroupConsumer = new GroupConsumer({
    bootstrap: spec.bootstrap,
    clientId: `bench-pause-${spec.name}`,
    groupId: spec.groupId,
    topics: [spec.topic],
    // The topic holds what earlier runs' groups read: a fresh group starts at its end.
    autoOffsetReset: 'latest',
    groupProtocol: spec.client === 'multilane-classic' ? 'classic' : 'consumer',
    hooks: {
      onRevoked: async (partitions) => {
        const offsets = partitions.flatMap((p) => {
          const o = next.get(p.partition)
          next.delete(p.partition)
          return o ? [o] : []
        })
        await consumer.commit(offsets).catch(() => {})
      },
    },
  })
  const gaveUp: PauseMember['gaveUp'] = []
  consumer.on('partitions_revoked', (e) => {
    gaveUp.push({ at: performance.now(), partitions: e.partitions.map((p) => p.partition) })
  })
  let running = false
  let loop: Promise<void> | undefined
  const run = async () => {
    let lastCommit = Date.now()
    while (running) {
      const batches = consumer.takeRecords(1000)
      for (const batch of batches) {
        for (const _ of batch.records) {
          if (spec.handlerMs > 0) await sleep(spec.handlerMs)
          spec.onRecord(batch.partition, spec.name)
        }
        const last = batch.records.at(-1)
        if (last)
          next.set(batch.partition, {
            topic: batch.topic,
            partition: batch.partition,
            offset: last.offset + 1,
          })
      }
      if (Date.now() - lastCommit >= 200) {
        lastCommit = Date.now()
        await consumer.commit([...next.values()]).catch(() => {})
      }
      if (batches.length === 0) await consumer.waitForRecords(200)
    }
  }
  return {
    name: spec.name,
    start: async () => {
      await consumer.start()
      running = true
      loop = run()
    },
    stop: async () => {
      running = false
      consumer.interruptWait()
      await loop
      await consumer.close()
    },
    owned: () => consumer.assignment().map((p) => p.partition),
    gaveUp,
  }
}

/** KafkaJS defaults (RoundRobin assignor, eager; 3 s heartbeats), eachMessage with auto-commit. */
function kafkaJsMember(spec: MemberSpec): PauseMember {
  const kafka = new Kafka({
    clientId: `bench-pause-${spec.name}`,
    brokers: spec.bootstrap,
    logLevel: logLevel.NOTHING,
  })
  const consumer = kafka.consumer({ groupId: spec.groupId, maxWaitTimeInMs: 500 })
  let owned: number[] = []
  const gaveUp: PauseMember['gaveUp'] = []
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    owned = [...(event.payload.memberAssignment[spec.topic] ?? [])]
  })
  // An eager member gives up everything when it rejoins; KafkaJS has no revoke event, but a
  // rebalance ends its fetches first (and the join event then reports the new assignment).
  consumer.on(consumer.events.REBALANCING, () => {
    if (owned.length > 0) gaveUp.push({ at: performance.now(), partitions: owned })
    owned = []
  })
  return {
    name: spec.name,
    start: async () => {
      await consumer.connect()
      await consumer.subscribe({ topics: [spec.topic], fromBeginning: false })
      await consumer.run({
        eachMessage: async ({ partition }) => {
          if (spec.handlerMs > 0) await sleep(spec.handlerMs)
          spec.onRecord(partition, spec.name)
        },
      })
    },
    stop: async () => {
      await consumer.disconnect()
    },
    owned: () => owned,
    gaveUp,
  }
}
