/**
 * The group a member belongs to, as handlers and the runtime's input both name it: a leaf, so
 * that handler-context.ts and runtime-input.ts need not import each other.
 */

/** Which Kafka group a runtime is a member of, as handlers see it (`ctx.consumerGroup`). */
export interface ConsumerGroupInfo {
  /** The Kafka group id (for a parallel segment, e.g. `analytics-parallel-2`). */
  name: string
  /** The segment this member processes, or -1 when the group is not split into segments. */
  segmentId: number
  /** The group as defined in the app (`analytics`); equal to `name` without segments. */
  segmentOrigin: string
}
