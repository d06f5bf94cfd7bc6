// The supervisor's HTTP endpoints under `multilane run --processes N --http-port P`: worker w
// serves its own on P + 1 + w; the supervisor serves P with the aggregate: /healthz live when
// every worker answers live, /readyz ready when every worker is (each worker's report inside),
// /metrics every worker's metrics in one exposition, each sample labelled worker="w".
import { startHttpEndpoints } from '../instrumentation/http-server.ts'

/** The environment variable that tells a worker the base port (it serves on base + 1 + its number). */
export const HTTP_PORT_ENV = 'MULTILANE_HTTP_PORT'

/** Worker `worker`'s port under base port `port`. */
export function workerPort(port: number, worker: number): number {
  return port + 1 + worker
}

const WORKER_TIMEOUT_MS = 2000

async function get(
  port: number,
  path: string,
): Promise<{ status: number; contentType: string; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(WORKER_TIMEOUT_MS),
  })
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  }
}

interface WorkerReport {
  worker: number
  port: number
  live: boolean
  ready: boolean
  reasons: string[]
  [detail: string]: unknown
}

async function workerReport(worker: number, port: number): Promise<WorkerReport> {
  try {
    const { body } = await get(port, '/readyz')
    const report = JSON.parse(body) as { live: boolean; ready: boolean; reasons: string[] }
    return { worker, port, ...report, reasons: report.reasons.map((r) => `worker ${worker}: ${r}`) }
  } catch (error) {
    return {
      worker,
      port,
      live: false,
      ready: false,
      reasons: [
        `worker ${worker}: no answer on port ${port} (${(error as Error).message}): starting, restarting or stuck`,
      ],
    }
  }
}

/**
 * Merges Prometheus text expositions: one family block per metric (HELP and TYPE once), every
 * sample labelled with its worker.
 */
export function mergeExpositions(parts: ReadonlyArray<{ worker: number; text: string }>): string {
  const families = new Map<string, { header: string[]; samples: string[] }>()
  for (const { worker, text } of parts) {
    let current: { header: string[]; samples: string[] } | undefined
    for (const line of text.split('\n')) {
      if (line === '') continue
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line)
      if (meta) {
        const name = meta[2]!
        let family = families.get(name)
        const fresh = family === undefined
        family ??= { header: [], samples: [] }
        if (fresh) families.set(name, family)
        if (fresh || family.header.length < 2) {
          if (!family.header.includes(line)) family.header.push(line)
        }
        current = family
        continue
      }
      if (line.startsWith('#') || !current) continue
      const label = `worker="${worker}"`
      const brace = line.indexOf('{')
      const space = line.indexOf(' ')
      current.samples.push(
        brace !== -1 && brace < space
          ? `${line.slice(0, brace + 1)}${label}${line[brace + 1] === '}' ? '' : ','}${line.slice(brace + 1)}`
          : `${line.slice(0, space)}{${label}}${line.slice(space)}`,
      )
    }
  }
  return `${[...families.values()].map((f) => [...f.header, ...f.samples].join('\n')).join('\n')}\n`
}

/**
 * Runs `run` (the swarm) with the aggregate endpoints served on `port`; without a port, just
 * runs it. Sets HTTP_PORT_ENV for the workers it starts.
 */
export async function withSwarmEndpoints<T>(
  port: number | undefined,
  workers: readonly number[],
  origin: string,
  run: () => Promise<T>,
): Promise<T> {
  if (port === undefined) return run()
  const server = await startHttpEndpoints({
    port,
    origin,
    health: async () => {
      const reports = await Promise.all(workers.map((w) => workerReport(w, workerPort(port, w))))
      return {
        live: reports.every((r) => r.live),
        ready: reports.every((r) => r.ready),
        reasons: reports.flatMap((r) => r.reasons),
        workers: reports,
      }
    },
    metrics: async () => {
      const parts = await Promise.all(
        workers.map(async (worker) => {
          try {
            return { worker, text: (await get(workerPort(port, worker), '/metrics')).body }
          } catch {
            return { worker, text: '' } // a worker being restarted: its samples are missing this scrape
          }
        }),
      )
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: mergeExpositions(parts) }
    },
  })
  process.env[HTTP_PORT_ENV] = String(port)
  try {
    return await run()
  } finally {
    delete process.env[HTTP_PORT_ENV]
    await server.close()
  }
}
