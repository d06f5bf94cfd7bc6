import { Command, InvalidArgumentError } from 'commander'
import { parse as parseYaml } from 'yaml'
import { readBundle } from '../../bench/bundle.ts'
import type { PointProgress } from '../../bench/point-runner.ts'
import { writeReport } from '../../bench/report.ts'
import { runBench } from '../../bench/run.ts'
import { renderComparison, renderSeedTable, renderSummaryTable } from '../../bench/tables.ts'
import { loadWorkload } from '../../bench/workload.ts'
import { parseBootstrap } from '../../kafka/bootstrap.ts'

function bootstrapList(value: string): string {
  try {
    parseBootstrap(value, '--bootstrap')
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--bootstrap: /, ''))
  }
  return value
}

/**
 * `--points a,b,c,rate=5000`: names separated by commas. A dimension point's full name has commas
 * too (`c,rate=5000`); point names cannot contain `=`, so a `key=value` part joins the name before it.
 */
export function pointList(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim())
  if (parts.some((n) => n === '')) throw new InvalidArgumentError('must be point names separated by commas')
  const names: string[] = []
  for (const part of parts) {
    if (!part.includes('=')) names.push(part)
    else if (names.length === 0)
      throw new InvalidArgumentError(
        `key=value part "${part}" must follow a point name (e.g. cg-continuous,rate=5000)`,
      )
    else names[names.length - 1] += `,${part}`
  }
  return names
}

/** `--set field.path=value` (repeatable); the value is read as YAML (`60`, `true`, `{ fixed: 5 }`). */
function setting(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError('must be field.path=value, e.g. producer.measureSeconds=60')
  let parsed: unknown
  try {
    parsed = parseYaml(value.slice(at + 1))
  } catch (error) {
    throw new InvalidArgumentError(`the value is not YAML: ${(error as Error).message}`)
  }
  return { ...previous, [value.slice(0, at).trim()]: parsed }
}

/** Live on a terminal (one line rewritten), else a plain line every 5 s. */
function progressPrinter(): { show: (p: PointProgress) => void; end: () => void } {
  const tty = process.stderr.isTTY === true
  let last = 0
  let shown = false
  const text = (p: PointProgress) =>
    `${p.point}: ${p.phase} ${p.elapsed.toFixed(0)} s, produced ${p.produced}, handled ${p.done}, lag ${p.lag ?? '?'}`
  return {
    show: (p) => {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${text(p)}`)
        shown = true
      } else if (Date.now() - last >= 5000 || p.phase === 'stopping') {
        last = Date.now()
        process.stderr.write(`${text(p)}\n`)
      }
    },
    end: () => {
      if (tty && shown) process.stderr.write('\r\x1b[2K')
      shown = false
    },
  }
}

/** `multilane bench run|report|compare`: the benchmark of src/bench (docs/bench.md). */
export function benchCommand(): Command {
  const bench = new Command('bench').description(
    'run benchmark workloads (YAML) against Kafka, and render or compare their result bundles',
  )

  bench
    .command('run')
    .description('run a workload file; writes a result bundle (JSON, .hgrm, report.html)')
    .argument('<workload>', 'workload file (YAML), e.g. examples/workloads/client-local-parallelism.yaml')
    .option('--out <dir>', 'result directory (default bench-results/<workload>-<time>)')
    .option('--points <names>', 'only these points, comma-separated', pointList)
    .option(
      '--bootstrap <servers>',
      "run against this cluster instead of the workload's target",
      bootstrapList,
    )
    .option(
      '--set <field=value>',
      'override a field of every point, e.g. producer.measureSeconds=60 (repeatable)',
      setting,
    )
    .option('--json', 'print the results as JSON')
    .action(
      async (
        file: string,
        opts: {
          out?: string
          points?: string[]
          bootstrap?: string
          set?: Record<string, unknown>
          json?: boolean
        },
      ) => {
        const workload = loadWorkload(file, opts.set)
        const controller = new AbortController()
        let interrupts = 0
        const onSignal = () => {
          interrupts++
          if (interrupts > 1) process.exit(130)
          process.stderr.write(
            '\ninterrupted: ending this point, draining it and writing what was measured (Ctrl-C again to quit at once)\n',
          )
          controller.abort()
        }
        process.on('SIGINT', onSignal)
        const progress = progressPrinter()
        try {
          const run = await runBench(workload, {
            ...(opts.out ? { out: opts.out } : {}),
            ...(opts.points ? { points: opts.points } : {}),
            ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
            signal: controller.signal,
            onProgress: progress.show,
            onLine: (line) => {
              progress.end()
              process.stderr.write(`${line}\n`)
            },
          })
          progress.end()
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ dir: run.dir, report: run.report, points: run.points.map(({ histograms: _, timeline: __, ...p }) => p) }, null, 2)}\n`,
            )
          } else {
            const bundle = readBundle(run.dir)
            const seed = renderSeedTable(bundle)
            process.stdout.write(
              `\n${renderSummaryTable(run.points, 'markdown')}\n${seed ? `\nBeside the seed study's figures:\n\n${seed}\n` : ''}\nresults: ${run.dir}\nreport:  ${run.report}\n`,
            )
          }
          const lost = run.points.filter((p) => p.lost !== 0)
          if (lost.length > 0) {
            process.stderr.write(
              `multilane: records lost in ${lost.map((p) => `${p.name} (${p.lost})`).join(', ')}\n`,
            )
            process.exitCode = 1
          }
          if (run.summary.interrupted) process.exitCode = 130
        } finally {
          process.off('SIGINT', onSignal)
        }
      },
    )

  bench
    .command('report')
    .description('render report.html of a result directory again')
    .argument('<result-dir>', 'a directory written by bench run')
    .action((dir: string) => {
      process.stdout.write(`${writeReport(dir)}\n`)
    })

  bench
    .command('compare')
    .description('per-point ratios of two result directories (B ÷ A): throughput, latency p50/p99/max, lag')
    .argument('<dirA>', 'the baseline result directory')
    .argument('<dirB>', 'the result directory compared with it')
    .option('--json', "print the two bundles' figures per point as JSON")
    .action((a: string, b: string, opts: { json?: boolean }) => {
      const bundleA = readBundle(a)
      const bundleB = readBundle(b)
      if (opts.json) {
        const pick = (bundle: typeof bundleA) =>
          Object.fromEntries(
            bundle.points.map((p) => [
              p.name,
              { consumedRate: p.consumedRate, endToEndMs: p.endToEndMs, lag: p.lag },
            ]),
          )
        process.stdout.write(`${JSON.stringify({ a: pick(bundleA), b: pick(bundleB) }, null, 2)}\n`)
        return
      }
      process.stdout.write(renderComparison(bundleA, bundleB))
    })

  return bench
}
