// The HTTP endpoints of `multilane run --http-port`: /metrics, /healthz, /readyz. Knows nothing of
// apps or swarms: it serves what its two callbacks answer (src/app/http-endpoints.ts wires an app,
// src/app/swarm-endpoints.ts a supervisor).
import { createServer, type Server } from 'node:http'
import { MultilaneError } from '../errors.ts'

/** What /healthz and /readyz answer: 200 when `live` (resp. `ready`), else 503; the JSON body is this. */
export interface HealthReport {
  live: boolean
  ready: boolean
  reasons: string[]
}

export interface HttpEndpointsOptions {
  port: number
  /** Default: every interface (probes come from outside the process's host: a kubelet, a load balancer). */
  host?: string
  /** How the port was given, for the error when it is taken (e.g. `--http-port 9464`). */
  origin: string
  /** The report; its other fields (groups, workers) are served too. */
  health(): HealthReport | Promise<HealthReport>
  metrics(): Promise<{ contentType: string; body: string }>
}

export interface HttpEndpoints {
  /** The port it listens on (the given one; the chosen one for port 0). */
  readonly port: number
  /** Stops listening and ends open connections (keep-alive ones too), so the process can exit. */
  close(): Promise<void>
}

/** Listens on `port`; rejects with HTTP_PORT_IN_USE (naming `origin`) when the port is taken. */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    const send = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' })
      response.end(body)
    }
    const answer = async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n')
      if (path === '/metrics') {
        const { contentType, body } = await options.metrics()
        return send(200, contentType, body)
      }
      if (path === '/healthz' || path === '/readyz') {
        const report = await options.health()
        const ok = path === '/healthz' ? report.live : report.ready
        return send(ok ? 200 : 503, 'application/json', `${JSON.stringify(report, null, 2)}\n`)
      }
      send(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n')
    }
    answer().catch((error: unknown) => {
      if (!response.headersSent) send(500, 'text/plain', `${(error as Error).message}\n`)
      else response.destroy()
    })
  })
  await listen(server, options)
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  let closing: Promise<void> | undefined
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function listen(server: Server, options: HttpEndpointsOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
        reject(
          new MultilaneError(
            'HTTP_PORT_IN_USE',
            `${options.origin}: port ${options.port} ${error.code === 'EACCES' ? 'may not be used by this user' : 'is in use by another process'} (${error.code}); choose another port`,
            { cause: error },
          ),
        )
      } else reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options.port, options.host)
  })
}
