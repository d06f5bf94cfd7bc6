/** One acquired offset this member still holds a lock on. */
export interface Held {
  deliveryCount: number
  /** Lock deadline (ms since the epoch), conservative. */
  deadline: number
  /** The lock duration the broker gave with the acquisition (0: unknown). */
  lockMs: number
  /** Handed to the runtime by takeRecords. */
  taken: boolean
  /** An accept/release/reject is queued or in flight: no further final acknowledgement. */
  final: boolean
}
