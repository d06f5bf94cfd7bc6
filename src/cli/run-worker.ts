// A worker of `multilane run --processes N` (src/app/swarm.ts starts it): runs the app module
// with its share of the segments until SIGTERM/SIGINT drains it.
// argv: <app module path> <segments: JSON array, or null for the app's ordinary members>
import { withHttpEndpoints } from '../app/http-endpoints.ts'
import { HTTP_PORT_ENV, workerPort } from '../app/swarm-endpoints.ts'
import { loadAppModule } from './app-module.ts'

const [modulePath, placement] = process.argv.slice(2)
// The swarm's channel (see swarm.ts) must not keep the worker alive. When it closes, the swarm
// is gone (killed: it waits for its workers otherwise): drain and exit as on SIGTERM (a worker
// already draining then exits at once, as on a second signal).
process.channel?.unref()
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
try {
  if (!modulePath || placement === undefined)
    throw new Error('usage: run-worker <app module> <segments JSON>')
  const segments = JSON.parse(placement) as number[] | null
  const app = await loadAppModule(modulePath)
  // --http-port P: this worker serves its own endpoints on P + 1 + its number.
  const base = process.env[HTTP_PORT_ENV]
  const port = base ? workerPort(Number(base), Number(process.env.MULTILANE_WORKER ?? 0)) : undefined
  await withHttpEndpoints(
    app,
    port,
    `--http-port ${base} (worker ${process.env.MULTILANE_WORKER}: port ${port})`,
    () => app.run(segments ? { segments } : {}),
  )
} catch (error) {
  const e = error as Error & { code?: string }
  process.stderr.write(
    `multilane worker ${process.env.MULTILANE_WORKER ?? ''}: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`,
  )
  process.exitCode = 1
}
