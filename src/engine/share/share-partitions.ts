import type { SharePartition } from './share-partition.ts'

/**
 * The member's share partitions by key, and by topic and number: an acknowledgement looks its
 * partition up per record, and a key string built and hashed for each cost more than the rest
 * of the call.
 */
export class SharePartitions {
  readonly #byKey = new Map<string, SharePartition>()
  readonly #byTopic = new Map<string, Array<SharePartition | undefined>>()

  get(key: string): SharePartition | undefined {
    return this.#byKey.get(key)
  }

  /** The partition by topic and number (no key string). */
  of(topic: string, partition: number): SharePartition | undefined {
    return this.#byTopic.get(topic)?.[partition]
  }

  add(p: SharePartition): void {
    this.#byKey.set(p.key, p)
    let byNumber = this.#byTopic.get(p.topic)
    if (!byNumber) {
      byNumber = []
      this.#byTopic.set(p.topic, byNumber)
    }
    byNumber[p.partition] = p
  }

  delete(p: SharePartition): void {
    this.#byKey.delete(p.key)
    const byNumber = this.#byTopic.get(p.topic)
    if (byNumber?.[p.partition] === p) byNumber[p.partition] = undefined
  }

  values(): IterableIterator<SharePartition> {
    return this.#byKey.values()
  }
}
