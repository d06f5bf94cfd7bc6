// An app's HTTP endpoints (`multilane run --http-port`): its Prometheus metrics and its health.
import { startHttpEndpoints } from '../instrumentation/http-server.ts'
import { instrumentPrometheus } from '../instrumentation/prometheus.ts'
import type { App } from './app.ts'

/**
 * Runs `run` (the app's run) with /metrics, /healthz and /readyz served on `port` meanwhile;
 * without a port, just runs it. The server listens before `run` starts (a taken port fails at
 * once, naming `origin`) and closes when it ends, however it ends.
 */
export async function withHttpEndpoints<T>(
  app: App,
  port: number | undefined,
  origin: string,
  run: () => Promise<T>,
): Promise<T> {
  if (port === undefined) return run()
  // Before the start, so the first assignment is counted.
  const prometheus = instrumentPrometheus(app)
  const server = await startHttpEndpoints({
    port,
    origin,
    health: () => app.health(),
    metrics: async () => ({
      contentType: prometheus.registry.contentType,
      body: await prometheus.registry.metrics(),
    }),
  }).catch((error: unknown) => {
    prometheus.close()
    throw error
  })
  app.logger.info({ port: server.port }, `serving /metrics, /healthz and /readyz on port ${server.port}`)
  try {
    return await run()
  } finally {
    await server.close()
    prometheus.close()
  }
}
