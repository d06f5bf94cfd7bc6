/** `createApp({ tracing })`: OpenTelemetry spans (docs/tracing.md). */
import { z } from 'zod'
import type { TracingOptions } from '../../instrumentation/tracing.ts'
import { options } from './rules.ts'

export type { TracingOptions } from '../../instrumentation/tracing.ts'

/** The validated `tracing` option. */
export interface TracingSettings {
  enabled: boolean | 'auto'
}

export const TRACING_DEFAULTS = Object.freeze({ enabled: 'auto' as const })

export const tracingContract = options({
  enabled: z
    .custom<boolean | 'auto'>((v) => v === true || v === false || v === 'auto', {
      error: "must be true, false or 'auto'",
    })
    .default(TRACING_DEFAULTS.enabled),
}) satisfies z.ZodType<TracingSettings, TracingOptions>
