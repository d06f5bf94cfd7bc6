/**
 * A point's lag as the broker sees it. Consumer groups: log end − committed offset, summed over
 * partitions (with segments: the largest segment group's). Share groups: the share-partition lag
 * of ShareGroupDescribe / DescribeShareGroupOffsets.
 */
import { Admin } from '@platformatic/kafka'
import { describeShareGroup } from '../admin/share.ts'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'

export interface LagSampler {
  /** Records not yet done; null when the broker could not tell (yet). */
  sample(): Promise<number | null>
  close(): Promise<void>
}

export function consumerGroupLag(
  kafka: KafkaConnectionOptions,
  topic: string,
  partitions: number,
  groups: readonly string[],
): LagSampler {
  const admin = new Admin({
    clientId: 'multilane-bench-lag',
    bootstrapBrokers: [kafka.bootstrap].flat().flatMap((b) => b.split(',')),
    ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
    ...(kafka.tls ? { tls: kafka.tls === true ? {} : kafka.tls } : {}),
  } as ConstructorParameters<typeof Admin>[0])
  const all = Array.from({ length: partitions }, (_, i) => i)
  return {
    async sample() {
      const [ends, committed] = await Promise.all([
        admin.listOffsets({
          topics: [
            { name: topic, partitions: all.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) },
          ],
        }),
        admin.listConsumerGroupOffsets({
          groups: groups.map((group) => ({
            groupId: group,
            topics: [{ name: topic, partitionIndexes: all }],
          })),
        }),
      ])
      const end = new Map<number, number>()
      for (const t of ends) for (const p of t.partitions) end.set(p.partitionIndex, Number(p.offset))
      let worst = 0
      for (const g of committed) {
        let lag = 0
        const seen = new Set<number>()
        for (const t of g.topics) {
          for (const p of t.partitions) {
            seen.add(p.partitionIndex)
            const e = end.get(p.partitionIndex) ?? 0
            lag += Math.max(0, e - (p.committedOffset >= 0n ? Number(p.committedOffset) : 0))
          }
        }
        for (const [partition, e] of end) if (!seen.has(partition)) lag += e
        worst = Math.max(worst, lag)
      }
      return worst
    },
    close: () => admin.close(),
  }
}

export function shareGroupLag(kafka: KafkaConnectionOptions, group: string): LagSampler {
  return {
    async sample() {
      const described = await describeShareGroup(kafka, group)
      if (described.partitions.length === 0) return null
      let lag = 0
      for (const p of described.partitions) {
        if (p.lag === null) return null
        lag += p.lag
      }
      return lag
    },
    close: async () => {},
  }
}
