import type { AckResult } from '../../engine/share/types.ts'
import type { EventBus } from '../../instrumentation/events.ts'
import { type Held, marginOf } from './held.ts'

/** What reporting needs: the group's events, and the fetch wait (renewal margins). */
export interface ShareAnswersOptions {
  groupId: string
  events: EventBus
  maxWaitMs: number
}

/**
 * What the member's answers to a held record's acknowledgements mean for the application: lost
 * locks (reported once per delivery), releases and rejections applied, failures, renewed locks
 * (the next renewal's margin).
 */
export class ShareAnswers {
  readonly #o: ShareAnswersOptions

  constructor(options: ShareAnswersOptions) {
    this.#o = options
  }

  /** The lock of `held` is lost: no more renewals; reported once per delivery. */
  lockLost(held: Held, reason: string): void {
    held.lost = true
    held.deadline = Number.POSITIVE_INFINITY
    if (held.reported) return
    held.reported = true
    const d = held
    this.#o.events.emit('share.lock_lost', {
      consumerGroup: this.#o.groupId,
      topic: d.topic,
      partition: d.partition,
      offset: d.offset,
      deliveryCount: d.deliveryCount,
      reason,
    })
  }

  /** The answer to a final acknowledgement other than an accept applied: reported. */
  final(held: Held, result: AckResult): void {
    const { events, groupId } = this.#o
    const d = held
    const type = result.type
    if (result.outcome === 'lock_lost') {
      this.lockLost(held, result.error?.message ?? 'the lock was lost')
    } else if (result.outcome === 'failed') {
      events.emit('error.occurred', {
        type: 'share.acknowledge.error',
        error: result.error ?? new Error(`${type} failed`),
        consumerGroup: groupId,
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
      })
    } else if (result.outcome === 'ok' && (type === 'release' || type === 'reject')) {
      const base = {
        consumerGroup: groupId,
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        deliveryCount: d.deliveryCount,
      }
      events.emit(type === 'release' ? 'share.released' : 'share.rejected', base)
    }
  }

  /** The answer to a renewal of `held`. */
  renewed(held: Held, result: AckResult): void {
    held.renewing = false
    const d = held
    if (result.outcome === 'ok' && result.lockDeadline !== undefined) {
      held.deadline = result.lockDeadline
      // The renewed lock runs its full duration: renew the next time at half of it (the
      // first margin came from what was left when the record was taken, maybe very little).
      held.margin = marginOf(result.lockDeadline, this.#o.maxWaitMs)
      this.#o.events.emit('share.lock_renewed', {
        consumerGroup: this.#o.groupId,
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        deliveryCount: d.deliveryCount,
        lockDeadline: result.lockDeadline,
      })
    } else if (result.outcome === 'lock_lost') {
      // Nothing more to renew: the record may be delivered again, here or elsewhere.
      this.lockLost(held, result.error?.message ?? 'the lock was lost')
      if (result.lockDeadline !== undefined) {
        // Sent after our deadline, yet the broker renewed it: reported (it may have run
        // elsewhere meanwhile), the lock is still ours and kept until the record ends.
        held.lost = false
        held.deadline = result.lockDeadline
        held.margin = marginOf(result.lockDeadline, this.#o.maxWaitMs)
      }
    } else if (result.outcome === 'failed' && result.error?.code === 'RENEW_UNSUPPORTED') {
      // RENEW unavailable (broker < 4.2, or the group disabled it): the member warned
      // once; stop trying for this record.
      held.deadline = Number.POSITIVE_INFINITY
    }
    // Any other failure (a retriable error that outlasted its attempts): the lock may still
    // be held; the next sweep asks again while the deadline is within the margin.
  }
}
