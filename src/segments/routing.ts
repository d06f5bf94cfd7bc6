import type { RecordFilter } from '../processing/dispatcher.ts'
import type { ConsumedRecord } from '../processing/record.ts'
import { type RouteErrorReport, type Routing, route } from '../processing/routing/route.ts'

/** What routing needs of a segmented group's settings. */
export type SegmentRouting = Routing

/** Told when a record's routing failed (it goes to segment 0). */
export type RoutingErrorReport = (
  type: 'parallel_segments.partitioner.error' | 'parallel_segments.reducer.error',
  error: Error,
  record: ConsumedRecord<unknown>,
) => void

const ERROR_TYPES = {
  partitioner: 'parallel_segments.partitioner.error',
  reducer: 'parallel_segments.reducer.error',
} as const

function segmentReport(report: RoutingErrorReport): RouteErrorReport {
  return (stage, error, record) => report(ERROR_TYPES[stage], error, record)
}

/**
 * The segment a record belongs to, by {@link route} (the routine lanes use too): a routing that
 * fails sends the record to segment 0 (and to it only), reported through `report`.
 */
export function segmentOf(
  record: ConsumedRecord<unknown>,
  routing: SegmentRouting,
  report?: RoutingErrorReport,
): number {
  return route(record, routing, report && segmentReport(report))
}

/**
 * The record filter of segment `segmentId`: keeps the records routed to it. Routing errors are
 * reported by segment 0 only — the segment that processes those records — so each is reported
 * once however many segments read it.
 */
export function segmentFilter(
  segmentId: number,
  routing: SegmentRouting,
  report: RoutingErrorReport,
): RecordFilter {
  const own = segmentId === 0 ? segmentReport(report) : undefined
  return (record) => route(record, routing, own) === segmentId
}
