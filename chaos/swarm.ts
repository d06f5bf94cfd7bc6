// `multilane run <app> --processes N` under the harness: started as a user would, its output
// kept in a file, and its workers followed through the supervisor's own lines ("worker 0
// (segments 0) started (pid 1234)", "worker 0 (segments 0) exited by SIGKILL; restarting in
// 500 ms"), so the harness knows each worker's current pid and every process that ended.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { alive, bin } from '../test/support/launcher.ts'
import type { ProcessEnd } from './checker.ts'

export interface WorkerProcess {
  worker: number
  pid: number
  /** When the supervisor reported it started (epoch ms). */
  since: number
}

const STARTED = /worker (\d+)\b.*\bstarted \(pid (\d+)\)/
const EXITED = /worker (\d+)\b.*\bexited (?:by|with) /

export class Swarm {
  readonly #child: ChildProcess
  readonly #out: WriteStream
  readonly #workers = new Map<number, WorkerProcess>()
  /** Pids the harness SIGKILLed, and when. */
  readonly #killed = new Map<number, number>()
  readonly #everPids = new Set<number>()
  readonly #appModule: string
  /** Worker processes that ended while the swarm ran (not the final drain). */
  readonly ends: ProcessEnd[] = []
  readonly #exited: Promise<number | null>
  #stopping = false
  #closed: Promise<void> | undefined
  #rest = ''

  constructor(appModule: string, processes: number, env: NodeJS.ProcessEnv, outputFile: string) {
    this.#appModule = appModule
    this.#out = createWriteStream(outputFile, { flags: 'a' })
    this.#child = spawn(process.execPath, [bin, 'run', appModule, '--processes', String(processes)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#child.stdout!.pipe(this.#out, { end: false })
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#out.write(chunk)
      const lines = (this.#rest + chunk.toString()).split('\n')
      this.#rest = lines.pop()!
      for (const line of lines) this.#onLine(line)
    })
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)))
  }

  get pid(): number {
    return this.#child.pid!
  }

  #onLine(line: string): void {
    const now = Date.now()
    const started = STARTED.exec(line)
    if (started) {
      const worker = Number(started[1])
      const pid = Number(started[2])
      this.#workers.set(worker, { worker, pid, since: now })
      this.#everPids.add(pid)
      return
    }
    const exited = EXITED.exec(line)
    if (exited) {
      const worker = Number(exited[1])
      const current = this.#workers.get(worker)
      if (!current) return
      this.#workers.delete(worker)
      const killedAt = this.#killed.get(current.pid)
      if (!this.#stopping)
        this.ends.push({
          pid: current.pid,
          worker,
          t: killedAt ?? now,
          cause: killedAt === undefined ? 'exit' : 'kill',
        })
    }
  }

  /** The workers running now (started and not reported exited). */
  workers(): WorkerProcess[] {
    return [...this.#workers.values()].filter((w) => alive(w.pid))
  }

  /** SIGKILLs a worker process; the supervisor restarts it. */
  kill(pid: number): void {
    this.#killed.set(pid, performance.timeOrigin + performance.now())
    process.kill(pid, 'SIGKILL')
  }

  /** SIGSTOPs a worker process (it keeps its connections, answers nothing); `resume` continues it. */
  freeze(pid: number): void {
    process.kill(pid, 'SIGSTOP')
  }

  resume(pid: number): void {
    process.kill(pid, 'SIGCONT')
  }

  /** Resolves once `n` workers run (the supervisor reported them started). */
  async waitForWorkers(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.workers().length < n) {
      if (this.#child.exitCode !== null) throw new Error(`multilane run exited (${this.#child.exitCode})`)
      if (Date.now() > deadline) throw new Error(`${n} workers did not start within ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  /**
   * SIGTERM: the swarm drains its workers (in-flight records finish and are committed) and
   * exits. After `timeoutMs` a second SIGTERM ends the workers at once. Resolves with the exit code.
   */
  async stop(timeoutMs: number): Promise<number | null> {
    this.#stopping = true
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM')
    const timer = sleep(timeoutMs).then(() => 'timeout' as const)
    let code = await Promise.race([this.#exited, timer])
    if (code === 'timeout') {
      this.#child.kill('SIGTERM')
      code = await Promise.race([this.#exited, sleep(30_000).then(() => 'timeout' as const)])
      if (code === 'timeout') this.#child.kill('SIGKILL')
    }
    this.#reap()
    await this.#close()
    return code === 'timeout' ? null : code
  }

  /** A live worker of this swarm (not a process that got a recycled pid). */
  #isWorker(pid: number): boolean {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      return (
        argv.some((a) => a.endsWith('run-worker.ts') || a.endsWith('run-worker.js')) &&
        argv.includes(this.#appModule)
      )
    } catch {
      return false
    }
  }

  /** Kills what is left: the supervisor and every worker it started (they have their own process groups). */
  #reap(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL')
    for (const pid of this.#everPids) {
      if (this.#isWorker(pid)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
    }
  }

  /** For failures: ends everything at once. */
  async abort(): Promise<void> {
    this.#stopping = true
    this.#reap()
    await Promise.race([this.#exited, sleep(10_000)])
    this.#reap()
    await this.#close()
  }

  #close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.#out.end(resolve))
    return this.#closed
  }
}
