// `multilane run <app-module> [--segments 0,2] [--processes N]`: runs the app until SIGTERM or
// SIGINT, in this process or as a supervised swarm of N worker processes. Either way `run`
// exits once the app has stopped, with the drain's status: a handle the app module left open
// (a /metrics server) must not keep it alive (app.onStop hooks close such resources first).
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, InvalidArgumentError } from 'commander'
import { withHttpEndpoints } from '../../app/http-endpoints.ts'
import { checkPlacement } from '../../app/members.ts'
import { planWorkers, RESTART_DEFAULTS, runSwarm } from '../../app/swarm.ts'
import { withSwarmEndpoints, workerPort } from '../../app/swarm-endpoints.ts'
import { MultilaneError } from '../../errors.ts'
import { appModulePath, loadAppModule } from '../app-module.ts'
import { probeApp } from '../app-probe.ts'
import { describeError } from '../errors.ts'
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts'

function segmentIds(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim())
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError('must be segment ids, comma-separated integers ≥ 0 (e.g. 0,2)')
  }
  const ids = parts.map(Number)
  if (new Set(ids).size !== ids.length) throw new InvalidArgumentError('lists a segment id twice')
  return ids
}

function processCount(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 256) {
    throw new InvalidArgumentError('must be an integer from 1 to 256')
  }
  return n
}

function portNumber(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535)
    throw new InvalidArgumentError('must be a port from 1 to 65535')
  return n
}

/** The worker program beside this module: .ts in a checkout, .js in the built package. */
function workerEntry(): string {
  return fileURLToPath(new URL(`../run-worker${extname(new URL(import.meta.url).pathname)}`, import.meta.url))
}

const log = (message: string) => process.stderr.write(`multilane run: ${message}\n`)

interface RunOptions {
  segments?: number[]
  processes?: number
  httpPort?: number
}

/** Runs the app in this process until a signal drained it; its exit code. */
async function runInProcess(module: string, opts: RunOptions): Promise<number> {
  const app = await loadAppModule(module)
  await withHttpEndpoints(app, opts.httpPort, `--http-port ${opts.httpPort}`, () =>
    app.run(opts.segments ? { segments: opts.segments } : {}),
  )
  return EXIT_OK
}

/** Runs the app as a supervised swarm of `processes` workers; the swarm's exit code. */
async function runWorkers(module: string, processes: number, opts: RunOptions): Promise<number> {
  // Read in a child process: the app module's top-level code must not run in the supervisor.
  const { consumerGroups: groups, shareGroups } = await probeApp(module)
  checkPlacement(groups, opts.segments)
  const { workers, idle } = planWorkers(groups, processes, opts.segments, shareGroups)
  if (idle.length > 0) {
    log(
      `${idle.length} of ${processes} workers would have no segment to run (worker${idle.length === 1 ? '' : 's'} ${idle.join(', ')}): ` +
        `starting ${workers.length}`,
    )
  }
  const ids = workers.map((w) => w.worker)
  const lastPort = opts.httpPort === undefined ? undefined : workerPort(opts.httpPort, Math.max(...ids))
  if (lastPort !== undefined && lastPort > 65535) {
    throw new MultilaneError(
      'INVALID_OPTION',
      `--http-port ${opts.httpPort}: with --processes ${processes} the workers serve on ports up to ${lastPort} (port + 1 + worker), past 65535: choose a port of at most ${opts.httpPort! - (lastPort - 65535)}`,
    )
  }
  return withSwarmEndpoints(opts.httpPort, ids, `--http-port ${opts.httpPort}`, () =>
    runSwarm({
      workers,
      command: {
        file: process.execPath,
        args: [...process.execArgv, workerEntry(), appModulePath(module)],
      },
      log,
    }),
  )
}

/** `multilane run`. */
export function runCommand(): Command {
  return new Command('run')
    .description(
      'run an app until SIGTERM/SIGINT (then drain gracefully, run the app’s onStop hooks and exit with the drain’s status): ' +
        'the module’s default export is the app. ' +
        `With --processes, a supervised swarm: a worker that dies is restarted with backoff; one that fails ` +
        `${RESTART_DEFAULTS.maxFailures} times within ${RESTART_DEFAULTS.windowMs / 1000} s ends the run with exit code 1`,
    )
    .argument('<app-module>', 'the module whose default export is the app (.ts or .js)')
    .option('--segments <ids>', 'run only these segment ids of every segmented group (e.g. 0,2)', segmentIds)
    .option(
      '--processes <n>',
      'fork n workers, the segments spread evenly (worker w gets ids i with i % n = w); ' +
        'without segments, n ordinary members of each group; every worker runs a member of each share group',
      processCount,
    )
    .option(
      '--http-port <port>',
      'serve /metrics (Prometheus), /healthz and /readyz on this port; with --processes, ' +
        'worker w on port + 1 + w and the aggregate on port (docs/operations.md)',
      portNumber,
    )
    .action(async (module: string, opts: RunOptions) => {
      let code: number
      try {
        code =
          opts.processes === undefined
            ? await runInProcess(module, opts)
            : await runWorkers(module, opts.processes, opts)
      } catch (error) {
        process.stderr.write(`multilane: ${describeError(error)}\n`)
        code = EXIT_FAILURE
      }
      // The app has stopped (or never started): whatever its module still holds open must not
      // keep `run` alive — an orchestrator would SIGKILL it and record a wrong status.
      process.exit(code)
    })
}
