// `npm run chaos` (node chaos/run.ts): the long form of the chaos harness — scenario A (consumer
// groups, chaos/scenario-a.ts, the default), B (share groups, chaos/scenario-b.ts) or C (scenario
// A's consumer groups in the blocking style on the classic protocol); see
// docs/reliability.md. Starts a three-broker cluster of its own, 60 s of faults, then checks;
// prints the detail and the RELIABILITY.md table. Exit 0 when every invariant held in every run,
// 1 otherwise, 2 on a usage error.
//
//   node chaos/run.ts [--scenario a|b|c] [--runs N] [--fault-seconds S] [--rate R] [--seed N] [--cluster-dir DIR]
import { parseArgs } from 'node:util'
import { detail, reliabilityTable } from './report.ts'
import { LONG_FORM, runScenarioA, type ScenarioResult, VARIANTS } from './scenario-a.ts'
import { runScenarioB, SHARE_LONG_FORM, type ShareScenarioResult } from './scenario-b.ts'
import { shareDetail, shareReliabilityTable } from './share-report.ts'

function usage(message: string): never {
  process.stderr.write(
    `chaos: ${message}\nusage: node chaos/run.ts [--scenario a|b|c] [--runs N] [--fault-seconds S] [--rate R] [--seed N] [--cluster-dir DIR]\n`,
  )
  process.exit(2)
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1)
    usage(`--${name} must be an integer ≥ 1, got ${JSON.stringify(value)}`)
  return n
}

let values: Record<string, string | undefined>
try {
  values = parseArgs({
    options: {
      scenario: { type: 'string' },
      runs: { type: 'string' },
      'fault-seconds': { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      'cluster-dir': { type: 'string' },
    },
    strict: true,
  }).values as Record<string, string | undefined>
} catch (error) {
  usage((error as Error).message)
}
const scenario = (values.scenario ?? 'a').toLowerCase()
if (scenario !== 'a' && scenario !== 'b' && scenario !== 'c')
  usage(
    `--scenario must be a (consumer groups), b (share groups) or c (blocking style, classic protocol), got ${JSON.stringify(values.scenario)}`,
  )
const longForm = scenario === 'b' ? SHARE_LONG_FORM : LONG_FORM
const runs = positiveInteger('runs', values.runs, 1)
const faultSeconds = positiveInteger('fault-seconds', values['fault-seconds'], longForm.faultSeconds)
const rate = positiveInteger('rate', values.rate, longForm.rate)
const firstSeed = positiveInteger('seed', values.seed, Date.now() % 1_000_000)

const log = (message: string) =>
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const common = (run: number) => ({
  faultSeconds,
  rate,
  seed: firstSeed + run,
  ...(values['cluster-dir'] ? { clusterDir: values['cluster-dir'] } : {}),
  log,
})
const command = `\`npm run chaos${scenario === 'a' ? '' : ` -- --scenario ${scenario}`}\`${faultSeconds === longForm.faultSeconds ? '' : ` --fault-seconds ${faultSeconds}`}`
let ok: boolean
if (scenario === 'a' || scenario === 'c') {
  const results: ScenarioResult[] = []
  for (let run = 0; run < runs; run++) {
    const result = await runScenarioA({ ...LONG_FORM, variant: scenario, ...common(run) })
    results.push(result)
    process.stdout.write(`\n${detail(result)}\n\n`)
  }
  const { style, groupProtocol } = VARIANTS[scenario]
  process.stdout.write(
    `scenario ${scenario.toUpperCase()} (${style} style, ${groupProtocol} protocol): ${runs} run(s), ${command}\n\n${reliabilityTable(results)}\n`,
  )
  ok = results.every((r) => r.check.ok)
} else {
  const results: ShareScenarioResult[] = []
  for (let run = 0; run < runs; run++) {
    const result = await runScenarioB({ ...SHARE_LONG_FORM, ...common(run) })
    results.push(result)
    process.stdout.write(`\n${shareDetail(result)}\n\n`)
  }
  process.stdout.write(`scenario B: ${runs} run(s), ${command}\n\n${shareReliabilityTable(results)}\n`)
  ok = results.every((r) => r.check.ok)
}
process.exitCode = ok ? 0 : 1
