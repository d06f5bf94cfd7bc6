import { MultilaneError } from '../../errors.ts'

/** Why a segments offset command could not read or write a group's offsets. */
export type SegmentOffsetsErrorCode =
  | 'TOPIC_NOT_FOUND'
  | 'OFFSETS_READ_FAILED'
  | 'OFFSETS_WRITE_FAILED'
  | 'GROUP_DESCRIBE_FAILED'
  | 'RECORDS_READ_FAILED'

/** A failure of `segments distribute|collapse|reset|check` against the cluster (exit code 1). */
export class SegmentOffsetsError extends MultilaneError<SegmentOffsetsErrorCode> {}
