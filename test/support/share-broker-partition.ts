// One share partition as the broker keeps it (Kafka's SharePartition, reduced to what a member's
// bookkeeping can observe): records acquired under time-limited locks per member, a partition's
// acknowledgements applied all or none (INVALID_RECORD_STATE when one offset is not acquired by
// the member), expired or released records available again with a higher delivery count, archived
// at the delivery count limit, acknowledgements below the start offset answered with no error.
// Model tests use it to answer the member's requests; it never looks at the member's state.
import { ACKNOWLEDGE_TYPE, type AcknowledgementBatch } from '../../src/kafka/apis/share-common.ts'

export type Owner = 'us' | 'other'

export type WireType = 'gap' | 'accept' | 'release' | 'reject' | 'renew'

interface BrokerRecord {
  state: 'available' | 'acquired' | 'archived'
  owner: Owner | undefined
  deliveryCount: number
  deadline: number
}

/** An acknowledgement the broker applied, with the delivery it applied to. */
export interface AppliedAck {
  owner: Owner
  offset: number
  type: WireType
  /** The broker's delivery count of the record when the acknowledgement applied. */
  deliveryCount: number
  at: number
}

const TYPE_OF: Record<number, WireType> = {
  [ACKNOWLEDGE_TYPE.GAP]: 'gap',
  [ACKNOWLEDGE_TYPE.ACCEPT]: 'accept',
  [ACKNOWLEDGE_TYPE.RELEASE]: 'release',
  [ACKNOWLEDGE_TYPE.REJECT]: 'reject',
  [ACKNOWLEDGE_TYPE.RENEW]: 'renew',
}

/** The offsets and types acknowledgement batches carry, in order. */
export function expandBatches(
  batches: readonly AcknowledgementBatch[],
): Array<{ offset: number; type: WireType }> {
  const out: Array<{ offset: number; type: WireType }> = []
  for (const b of batches) {
    const n = Number(b.lastOffset - b.firstOffset) + 1
    for (let i = 0; i < n; i++) {
      const code = b.acknowledgeTypes.length === 1 ? b.acknowledgeTypes[0]! : b.acknowledgeTypes[i]!
      const type = TYPE_OF[code]
      if (!type) throw new Error(`acknowledge type ${code} is not a wire type`)
      out.push({ offset: Number(b.firstOffset) + i, type })
    }
  }
  return out
}

export class BrokerSharePartition {
  readonly #records: BrokerRecord[]
  readonly deliveryCountLimit: number
  /** Every acknowledgement applied, in order. */
  readonly applied: AppliedAck[] = []

  constructor(logEnd: number, deliveryCountLimit = 5) {
    this.#records = Array.from({ length: logEnd }, () => ({
      state: 'available' as const,
      owner: undefined,
      deliveryCount: 0,
      deadline: 0,
    }))
    this.deliveryCountLimit = deliveryCountLimit
  }

  /** The share-partition start offset: every record below it is archived. */
  get startOffset(): number {
    const i = this.#records.findIndex((r) => r.state !== 'archived')
    return i < 0 ? this.#records.length : i
  }

  /** Locks whose deadline passed go back (or are archived at the delivery count limit). */
  expire(now: number): void {
    for (const r of this.#records) if (r.state === 'acquired' && r.deadline <= now) this.#giveBack(r)
  }

  /** Acquires up to `max` available records for `owner`, lowest offsets first. */
  acquire(
    owner: Owner,
    max: number,
    now: number,
    lockMs: number,
  ): Array<{ offset: number; deliveryCount: number }> {
    this.expire(now)
    const out: Array<{ offset: number; deliveryCount: number }> = []
    for (let offset = 0; offset < this.#records.length && out.length < max; offset++) {
      const r = this.#records[offset]!
      if (r.state !== 'available') continue
      r.state = 'acquired'
      r.owner = owner
      r.deliveryCount++
      r.deadline = now + lockMs
      out.push({ offset, deliveryCount: r.deliveryCount })
    }
    return out
  }

  /**
   * Applies one partition's acknowledgements for `owner`, all or none: INVALID_RECORD_STATE when
   * an offset at or above the start offset is not acquired by `owner`.
   */
  acknowledge(
    owner: Owner,
    acks: ReadonlyArray<{ offset: number; type: WireType }>,
    now: number,
    lockMs: number,
  ): 'ok' | 'invalid_record_state' {
    this.expire(now)
    const start = this.startOffset
    const live = acks.filter((a) => a.offset >= start)
    for (const a of live) {
      const r = this.#records[a.offset]
      if (r?.state !== 'acquired' || r.owner !== owner) return 'invalid_record_state'
    }
    for (const a of live) {
      const r = this.#records[a.offset]!
      this.applied.push({ owner, offset: a.offset, type: a.type, deliveryCount: r.deliveryCount, at: now })
      if (a.type === 'renew') r.deadline = now + lockMs
      else if (a.type === 'release') this.#giveBack(r)
      else {
        r.state = 'archived'
        r.owner = undefined
      }
    }
    return 'ok'
  }

  /** The member's connection closed, or its session ended: every lock it holds goes back. */
  releaseAll(owner: Owner): void {
    for (const r of this.#records) if (r.state === 'acquired' && r.owner === owner) this.#giveBack(r)
  }

  /** Offsets `owner` holds locked at `now`, with their delivery counts. */
  heldBy(owner: Owner, now: number): Array<{ offset: number; deliveryCount: number }> {
    this.expire(now)
    const out: Array<{ offset: number; deliveryCount: number }> = []
    this.#records.forEach((r, offset) => {
      if (r.state === 'acquired' && r.owner === owner) out.push({ offset, deliveryCount: r.deliveryCount })
    })
    return out
  }

  /** The other member accepts everything it holds. */
  acceptAll(owner: Owner, now: number): void {
    const held = this.heldBy(owner, now)
    this.acknowledge(
      owner,
      held.map((h) => ({ offset: h.offset, type: 'accept' as const })),
      now,
      0,
    )
  }

  #giveBack(r: BrokerRecord): void {
    r.owner = undefined
    r.state = r.deliveryCount >= this.deliveryCountLimit ? 'archived' : 'available'
  }
}
