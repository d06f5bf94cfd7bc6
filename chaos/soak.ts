// The soak: a consumer group, a group of parallel segments and a share group, each in a process
// of its own (chaos/soak-member.ts), side by side on one preloaded backlog (bench/throughput/
// preload.ts) with a slow handler, for a fixed time. Each member samples its memory and event-loop
// delay; the soak summarizes them (chaos/soak-report.ts). A member must hold what its capacity
// and the fetch buffers allow, never the backlog: RSS stays under the bound and flat.
// `npm run soak` (chaos/soak-run.ts) is the long form, test/integration/chaos/soak.test.ts the
// short one. Method: docs/reliability.md § Soak and memory.
import { type ChildProcess, fork } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { preloadTopic } from '../bench/throughput/preload.ts'
import type { FromMember, MemberSample, MemberSpec, SoakKind, ToMember } from './soak-member.ts'
import { type MemberSummary, summarize } from './soak-report.ts'

export const SOAK_KINDS: readonly SoakKind[] = ['consumer', 'segments', 'share']

export interface SoakOptions {
  bootstrap: string[]
  /** Records in the backlog, of `bytes` each, over `partitions` partitions. */
  backlog: number
  bytes: number
  partitions: number
  /** How long the members run, from the last one started. */
  durationMs: number
  sampleMs: number
  /** Samples before this (from each member's start) are left out of the slopes. */
  warmupMs: number
  /** In-flight capacity per group member. */
  capacity: number
  /** The handler's wait per record; the segments process, running `segments` members, waits that many times longer, so each process handles about capacity / handlerMs records. */
  handlerMs: number
  segments: number
  rssBoundMb: number
  /**
   * The members' V8 old-space limit (`--max-old-space-size`, MB), as a memory-bounded deployment
   * sets it (Node also derives it from a container's memory limit); Node's default when absent.
   */
  memberHeapMb?: number
  /**
   * The members' V8 semi-space limit (`--max-semi-space-size`, MB): the young generation. Node
   * without pointer compression lets it grow to two semi-spaces of 64 MB on any machine with
   * gigabytes free (docs/reliability.md § Soak and memory); Node's default when absent.
   */
  memberSemiSpaceMb?: number
  /**
   * When set: every sample is appended to samples.jsonl here, one JSON line (`{kind, pid, …sample}`),
   * and SIGUSR2 makes a member write a heap snapshot here.
   */
  workDir?: string
  log?: (message: string) => void
}

export interface SoakMember {
  kind: SoakKind
  pid: number
  samples: MemberSample[]
  /** How it ended: `stopped` after the stop request, else the exit code or signal while running. */
  ended: 'stopped' | string
  summary: MemberSummary
}

export interface SoakResult {
  topic: string
  /** Seconds the backlog took to produce (0 when the topic already held it). */
  preloadSeconds: number
  runMs: number
  members: SoakMember[]
  /** 1-minute load average of the machine: mean and max over the run. */
  load: { mean: number; max: number }
  /** Every member ran to the stop, handled records, and kept RSS under the bound. */
  ok: boolean
  problems: string[]
}

interface Running {
  kind: SoakKind
  child: ChildProcess
  samples: MemberSample[]
  started: Promise<void>
  exited: Promise<string>
  stopRequested: boolean
}

function startMember(
  spec: MemberSpec,
  samplesFile: string | undefined,
  workDir: string | undefined,
  heapMb: number | undefined,
  semiSpaceMb: number | undefined,
): Running {
  const child = fork(join(import.meta.dirname, 'soak-member.ts'), [JSON.stringify(spec)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // `kill -USR2 <pid>` writes a heap snapshot of that member into the work directory.
    execArgv: [
      ...process.execArgv,
      ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []),
      ...(semiSpaceMb ? [`--max-semi-space-size=${semiSpaceMb}`] : []),
      ...(workDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${workDir}`] : []),
    ],
  })
  const samples: MemberSample[] = []
  let started!: () => void
  const member: Running = {
    kind: spec.kind,
    child,
    samples,
    started: new Promise<void>((resolve) => {
      started = resolve
    }),
    exited: new Promise<string>((resolve) =>
      child.once('exit', (code, signal) =>
        resolve(member.stopRequested && code === 0 ? 'stopped' : (signal ?? `exit ${code}`)),
      ),
    ),
    stopRequested: false,
  }
  child.on('message', (message: FromMember) => {
    if (message.type === 'started') started()
    else if (message.type === 'sample') {
      samples.push(message)
      if (samplesFile)
        appendFileSync(samplesFile, `${JSON.stringify({ kind: spec.kind, pid: child.pid, ...message })}\n`)
    }
  })
  return member
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A deadline that does not keep the process alive once everything else is done. */
const deadline = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref())

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {})
  const preload = await preloadTopic(
    options.bootstrap,
    { records: options.backlog, bytes: options.bytes, partitions: options.partitions },
    log,
  )
  const suffix = `${Date.now().toString(36)}-${process.pid}`
  const members = SOAK_KINDS.map((kind) =>
    startMember(
      {
        kind,
        bootstrap: options.bootstrap,
        topic: preload.topic,
        group: `soak-${kind}-${suffix}`,
        capacity: options.capacity,
        segments: options.segments,
        handlerMs: options.handlerMs * (kind === 'segments' ? options.segments : 1),
        sampleMs: options.sampleMs,
      },
      options.workDir && join(options.workDir, 'samples.jsonl'),
      options.workDir,
      options.memberHeapMb,
      options.memberSemiSpaceMb,
    ),
  )
  const problems: string[] = []
  const loads: number[] = []
  let runMs = 0
  try {
    // A member that dies before it started is a failure, not a wait for ever.
    const died = Promise.race(members.map((m) => m.exited.then((how) => `${m.kind} member ended (${how})`)))
    const startedAll = Promise.all(members.map((m) => m.started)).then(() => undefined)
    const first = await Promise.race([startedAll, died, deadline(120_000).then(() => 'timeout' as const)])
    if (first === 'timeout') throw new Error('the soak members did not all start within 120 s')
    if (typeof first === 'string') throw new Error(`${first} before every member started`)
    log(`members started (pids ${members.map((m) => `${m.kind} ${m.child.pid}`).join(', ')})`)

    const startedAt = performance.now()
    const ticker = setInterval(() => {
      loads.push(loadavg()[0]!)
      const elapsed = (performance.now() - startedAt) / 1000
      const state = members
        .map((m) => {
          const s = m.samples.at(-1)
          return s ? `${m.kind} ${(s.rss / 1024 / 1024).toFixed(0)} MB/${s.handled}` : `${m.kind} -`
        })
        .join(', ')
      log(`${elapsed.toFixed(0)} s: ${state}; load ${loadavg()[0]!.toFixed(1)}`)
    }, options.sampleMs)
    const stopEarly = await Promise.race([sleep(options.durationMs).then(() => undefined), died])
    clearInterval(ticker)
    runMs = performance.now() - startedAt
    if (stopEarly) problems.push(stopEarly)
  } finally {
    for (const m of members) {
      m.stopRequested = true
      if (m.child.connected) m.child.send({ type: 'stop' } satisfies ToMember)
    }
    // In-flight handlers finish within the handler's wait; a member that hangs is killed.
    const hung = deadline(60_000).then(() => 'hung' as const)
    await Promise.all(
      members.map(async (m) => {
        if ((await Promise.race([m.exited, hung])) === 'hung') {
          problems.push(`${m.kind} member did not exit within 60 s of the stop; killed`)
          m.child.kill('SIGKILL')
        }
      }),
    )
  }

  const result: SoakMember[] = []
  for (const m of members) {
    const ended = await m.exited
    const summary = summarize(m.kind, m.samples, {
      warmupMs: options.warmupMs,
      rssBoundMb: options.rssBoundMb,
    })
    if (ended !== 'stopped') problems.push(`${m.kind} member ended with ${ended}, not on the stop`)
    if (summary.samples === 0) problems.push(`${m.kind} member sent no sample`)
    if (summary.handled === 0) problems.push(`${m.kind} member handled no record`)
    if (summary.overBound > 0)
      problems.push(
        `${m.kind} member: ${summary.overBound} RSS sample(s) at or above ${options.rssBoundMb} MB (max ${summary.rssMaxMb.toFixed(0)} MB)`,
      )
    result.push({ kind: m.kind, pid: m.child.pid ?? -1, samples: m.samples, ended, summary })
  }
  return {
    topic: preload.topic,
    preloadSeconds: preload.produced ? preload.ms / 1000 : 0,
    runMs,
    members: result,
    load: {
      mean: loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : loadavg()[0]!,
      max: loads.length ? Math.max(...loads) : loadavg()[0]!,
    },
    ok: problems.length === 0,
    problems: [...new Set(problems)],
  }
}
