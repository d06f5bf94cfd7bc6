// A worker of `multilane run --processes N` (src/app/swarm.ts starts it): runs the app module
// with its share of the segments until SIGTERM/SIGINT drains it, then exits with the drain's
// status (whatever the module still holds open).
// argv: <app module path> <segments: JSON array, or null for the app's ordinary members>
import { withHttpEndpoints } from '../app/http-endpoints.ts'
import { type SwarmMessage, workerExitCode } from '../app/swarm.ts'
import { HTTP_PORT_ENV, workerPort } from '../app/swarm-endpoints.ts'
import { loadAppModule } from './app-module.ts'
import { describeError } from './errors.ts'

const [modulePath, placement] = process.argv.slice(2)
// The swarm's channel (see swarm.ts) must not keep the worker alive. When it closes, the swarm
// is gone (killed: it waits for its workers otherwise): drain and exit as on SIGTERM (a worker
// already draining then exits at once, as on a second signal).
process.channel?.unref()
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
// The swarm asks for stops over the channel, not with signals: a SIGTERM that reaches the worker
// directly as well (systemd stopping the whole cgroup) is then the same stop, not a second one.
const stopRequest = new AbortController()
process.on('message', (message: SwarmMessage) => {
  if (message?.type === 'stop') stopRequest.abort()
  else if (message?.type === 'exit') process.exit(message.code)
})
let code = 0
try {
  if (!modulePath || placement === undefined)
    throw new Error('usage: run-worker <app module> <segments JSON>')
  const segments = JSON.parse(placement) as number[] | null
  const app = await loadAppModule(modulePath)
  // --http-port P: this worker serves its own endpoints on P + 1 + its number.
  const base = process.env[HTTP_PORT_ENV]
  const worker = Number(process.env.MULTILANE_WORKER)
  const port = base ? workerPort(Number(base), Number.isSafeInteger(worker) ? worker : 0) : undefined
  await withHttpEndpoints(
    app,
    port,
    `--http-port ${base} (worker ${process.env.MULTILANE_WORKER}: port ${port})`,
    () =>
      app.run({
        ...(segments ? { segments } : {}),
        ...(Number.isSafeInteger(worker) ? { worker } : {}),
        stopRequest: stopRequest.signal,
      }),
  )
} catch (error) {
  process.stderr.write(`multilane worker ${process.env.MULTILANE_WORKER ?? ''}: ${describeError(error)}\n`)
  // Tells the swarm whether a restart can help (see WORKER_EXIT).
  code = workerExitCode(error)
}
process.exit(code)
