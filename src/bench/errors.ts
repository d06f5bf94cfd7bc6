import { MultilaneError } from '../errors.ts'

/** One broken rule of a workload file: the field, the rule, and where it is. */
export interface WorkloadIssue {
  /** Dotted field path, e.g. `consumers.capacity` or `points[1].consumers.members`. */
  field: string
  /** The rule, with what was found. */
  rule: string
  /** 1-based line and column in the file (of the field, or of its nearest written parent); 0 for a `--set`. */
  line: number
  column: number
}

/** `multilane bench`: an invalid workload, an unreadable result bundle, or a point that failed. */
export class BenchError extends MultilaneError<
  'INVALID_WORKLOAD' | 'BENCH_BUNDLE_INVALID' | 'BENCH_POINT_FAILED'
> {
  readonly issues: readonly WorkloadIssue[]

  constructor(
    code: 'INVALID_WORKLOAD' | 'BENCH_BUNDLE_INVALID' | 'BENCH_POINT_FAILED',
    message: string,
    options?: ErrorOptions & { issues?: readonly WorkloadIssue[] },
  ) {
    super(code, message, options)
    this.issues = options?.issues ?? []
  }
}
