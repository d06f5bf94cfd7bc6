import type { ErrorOccurredEvent, EventBus, EventName, MultilaneEvents } from './events.ts'

type LogMethod = (object: Record<string, unknown>, message: string) => void

/** The logger methods the default log uses (pino's shape). */
export interface DefaultLogTarget {
  info: LogMethod
  warn: LogMethod
  error: LogMethod
}

/** Repeats of one kind of line (same type and partition) within this window are counted, not printed. */
export const LOG_REPEAT_WINDOW_MS = 10_000

interface Window {
  until: number
  suppressed: number
  timer: NodeJS.Timeout | undefined
}

/**
 * Logs, without any subscription by the user, what someone running the app must see: failures
 * (fatal ones always; handler errors, retries, dead letter dispatches and connection problems
 * at most once per partition and kind every 10 s, with a count of what was left out), missing
 * topics, limits that hold intake, offset resets, rebalances, and share group records rejected
 * or whose lock was lost (limited the same way). Returns a function that detaches it.
 */
export function attachDefaultLog(events: EventBus, logger: DefaultLogTarget): () => void {
  const windows = new Map<string, Window>()
  /**
   * Logs now, or counts the line when one of its kind (`key`) was logged within the window; the
   * count is reported in words (`what`, `where`) when the window ends.
   */
  const limited = (key: string, repeat: Repeat, log: (suppressed: number) => void): void => {
    const now = Date.now()
    const w = windows.get(key)
    if (w && now < w.until) {
      w.suppressed++
      // Say how many were left out when the window ends, even if no further line comes.
      w.timer ??= setTimeout(() => {
        w.timer = undefined
        if (w.suppressed > 0) {
          logger.warn(
            { repeats: w.suppressed, ...repeat.fields },
            `${w.suppressed} more ${repeat.what} in ${place(repeat.fields)} within ${LOG_REPEAT_WINDOW_MS / 1000} s, not logged one by one`,
          )
          w.suppressed = 0
        }
      }, w.until - now).unref()
      return
    }
    const suppressed = w?.suppressed ?? 0
    if (w?.timer) clearTimeout(w.timer)
    windows.set(key, { until: now + LOG_REPEAT_WINDOW_MS, suppressed: 0, timer: undefined })
    log(suppressed)
  }

  const detach: Array<() => void> = []
  const on = <K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): void => {
    events.on(name, listener)
    detach.push(() => events.off(name, listener))
  }

  on('error.occurred', (e) => {
    const fields = errorFields(e)
    if (e.fatal || e.type === 'consumer.fatal') {
      logger.error(fields, `fatal: ${e.error.message}`)
      return
    }
    const key = [e.type, e.consumerGroup ?? '', e.topic ?? '', e.partition ?? ''].join('|')
    const level = SEVERE.has(e.type) ? 'error' : 'warn'
    const repeat = {
      what: `${ERROR_WORDS[e.type] ?? 'errors'} (${e.type})`,
      fields: at({ type: e.type, consumerGroup: e.consumerGroup, topic: e.topic, partition: e.partition }),
    }
    limited(key, repeat, (suppressed) =>
      logger[level](
        { ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
        describe(e),
      ),
    )
  })
  on('dead_letter_queue.dispatched', (e) =>
    limited(
      `dlq|${e.consumerGroup}|${e.topic}|${e.partition}`,
      { what: 'records sent to the dead letter topic', fields: at(e) },
      (suppressed) =>
        logger.warn(
          { ...e, error: e.error.message, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
          `record ${e.topic}#${e.partition}@${e.offset} sent to dead letter topic ${e.deadLetterTopic} after ${e.attempts} attempts`,
        ),
    ),
  )
  on('group.protocol_chosen', (e) =>
    logger.info(e, `consumer group "${e.consumerGroup}" uses the ${e.protocol} group protocol (${e.reason})`),
  )
  on('topics.missing', (e) =>
    logger.warn(
      e,
      `consumer group "${e.consumerGroup}" subscribes to topics that do not exist: ${e.topics.join(', ')} (create them, or fix the names; checking again every 10 s)`,
    ),
  )
  on('offsets.map_limit_reached', (e) =>
    logger.warn(
      e,
      `${e.topic}#${e.partition}: offset map near the commit metadata limit (${e.bytes} of ${e.limit} bytes): taking new records paused until older ones finish`,
    ),
  )
  on('offsets.window_limit_reached', (e) =>
    logger.warn(
      e,
      `${e.topic}#${e.partition}: ${e.limit} offsets held above unfinished record ${e.lowestUnfinished}: taking new records paused until it finishes`,
    ),
  )
  on('offsets.map_discarded', (e) =>
    logger.warn(
      { ...e, error: e.error?.message },
      `${e.topic}#${e.partition}: committed offset map not used (${e.reason === 'base_mismatch' ? `written for offset ${e.mapBase}, stored with ${e.committedOffset}` : 'undecodable'}): records above ${e.committedOffset} are processed again`,
    ),
  )
  on('partitions.position_reset', (e) =>
    logger.warn(
      e,
      e.reason === 'truncation'
        ? `${e.topic}#${e.partition}: the leader's log was truncated below ${e.from}: reading again from ${e.to}`
        : `${e.topic}#${e.partition}: offset ${e.from} is out of range: reset to ${e.policy} (${e.to})`,
    ),
  )
  on('share.lock_lost', (e) =>
    limited(
      `lock_lost|${e.consumerGroup}|${e.topic}|${e.partition}`,
      { what: 'lost record locks', fields: at(e) },
      (suppressed) =>
        logger.warn(
          { ...e, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
          `${e.topic}#${e.partition}@${e.offset}: lock of delivery ${e.deliveryCount} lost (${e.reason}): the record may be processed again, here or by another member`,
        ),
    ),
  )
  on('share.rejected', (e) =>
    limited(
      `rejected|${e.consumerGroup}|${e.topic}|${e.partition}`,
      { what: 'rejected records', fields: at(e) },
      (suppressed) =>
        logger.warn(
          { ...e, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
          `${e.topic}#${e.partition}@${e.offset} rejected on delivery ${e.deliveryCount}: never delivered again (archived, or written to the group's dead letter topic by the broker)`,
        ),
    ),
  )
  on('partitions.assigned', (e) =>
    logger.info(
      { consumerGroup: e.consumerGroup, partitions: e.partitions.length },
      `assigned ${list(e.partitions)}`,
    ),
  )
  on('partitions.revoked', (e) =>
    logger.info(
      { consumerGroup: e.consumerGroup, partitions: e.partitions.length, reason: e.reason },
      `${e.reason === 'lost' ? 'lost' : 'revoked'} ${list(e.partitions)}`,
    ),
  )

  return () => {
    for (const off of detach) off()
    for (const w of windows.values()) if (w.timer) clearTimeout(w.timer)
  }
}

/** What a repeat summary says repeated, and where (its fields: type, consumerGroup, topic, partition). */
interface Repeat {
  what: string
  fields: Record<string, string | number>
}

/** The location fields of an event, those it has. */
function at(e: {
  type?: string
  consumerGroup?: string | undefined
  topic?: string | undefined
  partition?: number | undefined
}): Record<string, string | number> {
  const fields: Record<string, string | number> = {}
  if (e.type !== undefined) fields.type = e.type
  if (e.consumerGroup !== undefined) fields.consumerGroup = e.consumerGroup
  if (e.topic !== undefined) fields.topic = e.topic
  if (e.partition !== undefined) fields.partition = e.partition
  return fields
}

/** `consumer group "g", topic "t", partition 0` (the parts known), or `the app`. */
function place(fields: Record<string, string | number>): string {
  const parts: string[] = []
  if (fields.consumerGroup !== undefined) parts.push(`consumer group "${fields.consumerGroup}"`)
  if (fields.topic !== undefined) parts.push(`topic "${fields.topic}"`)
  if (fields.partition !== undefined) parts.push(`partition ${fields.partition}`)
  return parts.length > 0 ? parts.join(', ') : 'the app'
}

/** Error types in words, for repeat summaries. */
const ERROR_WORDS: Partial<Record<ErrorOccurredEvent['type'], string>> = {
  'consumer.handler.error': 'handler errors',
  'consumer.deserializer.error': 'deserialization errors',
  'consumer.retries_exhausted': 'records out of retries',
  'consumer.commit.error': 'commit errors',
  'consumer.connection.error': 'connection errors',
  'consumer.filter.error': 'record filter errors',
  'virtual_partitions.partitioner.error': 'virtual partitioner errors',
  'virtual_partitions.reducer.error': 'virtual partition reducer errors',
  'dead_letter_queue.dispatch.error': 'failed dead letter dispatches',
  'event.listener.error': 'event listener errors',
  'share.acknowledge.error': 'acknowledgement errors',
  'parallel_segments.partitioner.error': 'segment partitioner errors',
  'parallel_segments.reducer.error': 'segment reducer errors',
}

const SEVERE = new Set<ErrorOccurredEvent['type']>([
  'consumer.retries_exhausted',
  'dead_letter_queue.dispatch.error',
  'event.listener.error',
])

function errorFields(e: ErrorOccurredEvent): Record<string, unknown> {
  return {
    type: e.type,
    err: e.error,
    consumerGroup: e.consumerGroup,
    topic: e.topic,
    partition: e.partition,
    offset: e.offset,
    attempt: e.attempt,
  }
}

function describe(e: ErrorOccurredEvent): string {
  const where =
    e.topic !== undefined ? ` ${e.topic}#${e.partition}${e.offset !== undefined ? `@${e.offset}` : ''}` : ''
  const attempt = e.attempt !== undefined ? ` (attempt ${e.attempt})` : ''
  return `${e.type}${where}${attempt}: ${e.error.message}`
}

function list(partitions: ReadonlyArray<{ topic: string; partition: number }>): string {
  const shown = partitions.slice(0, 20).map((p) => `${p.topic}#${p.partition}`)
  return partitions.length > 20 ? `${shown.join(', ')} and ${partitions.length - 20} more` : shown.join(', ')
}
