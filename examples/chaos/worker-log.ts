// What both chaos apps (app.ts: scenario A, share-app.ts: scenario B) take from the harness and
// how they log: the CHAOS_* environment, and one JSON line per entry appended to the worker's log
// file (CHAOS_LOG_DIR/worker-<w>.jsonl, w = the swarm's MULTILANE_WORKER), written synchronously
// so a SIGKILL loses nothing already logged. Each line ends with the time (epoch ms,
// sub-millisecond), the pid and the worker.
import { openSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** The payload the harness's producer writes. */
export interface ChaosPayload {
  key: string
  seq: number
  id: string
}

export interface ChaosWorker {
  topic: string
  group: string
  /** Each record's simulated work: 0 to this many ms (CHAOS_WORK_MS). */
  workMs: number
  /** Appends one entry to the worker's log. */
  line(entry: Record<string, unknown>): void
}

/** The harness's settings for app `app` (named in errors), with `defaultWorkMs` when CHAOS_WORK_MS is unset. */
export function chaosWorker(app: string, defaultWorkMs: number): ChaosWorker {
  const required = (name: string): string => {
    const value = process.env[name]
    if (!value) throw new Error(`${app}: environment variable ${name} is not set`)
    return value
  }
  const topic = required('CHAOS_TOPIC')
  const group = required('CHAOS_GROUP')
  const worker = process.env.MULTILANE_WORKER ?? 'single'
  // Opened in append mode: a restarted worker adds to its predecessor's file.
  const log = openSync(join(required('CHAOS_LOG_DIR'), `worker-${worker}.jsonl`), 'a')
  const w = Number.isSafeInteger(Number(worker)) ? Number(worker) : -1
  const now = () => performance.timeOrigin + performance.now()
  return {
    topic,
    group,
    workMs: Number(process.env.CHAOS_WORK_MS ?? defaultWorkMs),
    line: (entry) => writeSync(log, `${JSON.stringify({ ...entry, t: now(), pid: process.pid, w })}\n`),
  }
}
