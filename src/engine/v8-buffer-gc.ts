import { setFlagsFromString } from 'node:v8'

/**
 * Set to `1` to keep V8's own heuristics (see {@link accountBuffersInHeapLimit}); unset, empty or
 * `0`: multilane changes the one flag.
 */
export const KEEP_V8_DEFAULTS_ENV = 'MULTILANE_KEEP_V8_DEFAULTS'

const FLAG = 'external-memory-accounted-in-global-limit'

/** What {@link accountBuffersInHeapLimit} did. */
export type BufferGcTuning =
  | 'set'
  /** Set earlier in this process. */
  | 'already-set'
  /** `MULTILANE_KEEP_V8_DEFAULTS=1`. */
  | 'kept-by-env'
  /** The node command line names the flag (either way): the user's choice stands. */
  | 'user-set'
  /** `--freeze-flags-after-init`: V8 aborts the process on any later flag change. */
  | 'flags-frozen'
  /** A V8 without the regression, or without the flag: nothing to do, nothing to risk. */
  | 'not-needed'

let done = false

/**
 * Makes V8 collect the Buffers of socket reads by scavenges, as Node up to 23 did. Process-wide:
 * it changes how V8 weighs all external (ArrayBuffer) memory of the process when it decides on a
 * full collection, the host application's too.
 *
 * Node 24's V8 (13.6) let the young generation grow to 4× what it was (nodejs/node#61967 and
 * #63863): young ArrayBuffer bytes now reach V8's fixed 64 MB external-memory soft limit before
 * a scavenge frees them, and each time V8 starts a full mark-compact instead. A consumer reads a
 * Buffer per 64 KiB of fetched records and drops it soon after, so at full speed it ran a
 * mark-compact per young collection: half its CPU, in some runs and not others, and in every run
 * of the app (BENCHMARKS.md § The collector's mode). V8's `--external-memory-accounted-in-global-limit`
 * counts that memory in the heap's own growing limit instead; upstream V8 made it the default.
 * Node does not accept it in `NODE_OPTIONS`, and it takes effect when set at run time, so the
 * engine's consumers set it when they start: once per process, only on the V8 line that has both
 * the regression and the flag (13.6 up to 14), not when the node command line names the flag or
 * freezes V8's flags, and not with `MULTILANE_KEEP_V8_DEFAULTS=1`. Never throws: the variable
 * was checked when the consumer (or app) was made ({@link keepV8DefaultsProblem}); a value made
 * bad since counts as unset.
 */
export function accountBuffersInHeapLimit(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
  v8Version: string = process.versions.v8,
  set: (flags: string) => void = setFlagsFromString,
): BufferGcTuning {
  if (done) return 'already-set'
  if (decide(env[KEEP_V8_DEFAULTS_ENV])) return 'kept-by-env'
  if (!affected(v8Version)) return 'not-needed'
  const named = execArgv.map((a) => a.replaceAll('_', '-').split('=', 1)[0])
  if (named.includes('--freeze-flags-after-init')) return 'flags-frozen'
  if (named.includes(`--${FLAG}`) || named.includes(`--no-${FLAG}`)) return 'user-set'
  set(`--${FLAG}`)
  done = true
  return 'set'
}

/**
 * What is wrong with `MULTILANE_KEEP_V8_DEFAULTS` (any value but `1`, `0` or empty), naming
 * it; undefined when nothing is. Callers throw it as their own error class.
 */
export function keepV8DefaultsProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[KEEP_V8_DEFAULTS_ENV]
  if (decide(value) !== undefined) return undefined
  return `${KEEP_V8_DEFAULTS_ENV} must be 1 (keep V8's defaults) or 0 (let multilane set --${FLAG}), got "${value}"`
}

/** The decision a value stands for; undefined for a bad value. */
function decide(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '' || value === '0') return false
  if (value === '1') return true
  return undefined
}

/** V8 13.6 up to 14.x: raised the young generation (the regression) and has the flag. */
function affected(v8Version: string): boolean {
  const [major = 0, minor = 0] = v8Version.split('.', 2).map(Number)
  return (major === 13 && minor >= 6) || major === 14
}
