// `npm run chaos` (node chaos/run.ts): the long form of the chaos harness, scenario A by default
// or C with `--scenario c` (the blocking style on the classic protocol; see chaos/scenario-a.ts
// and docs/reliability.md). Starts a three-broker cluster of its own, 60 s of
// faults, then checks; prints the detail and the RELIABILITY.md table. Exit 0 when every
// invariant held in every run, 1 otherwise, 2 on a usage error.
//
//   node chaos/run.ts [--scenario a|c] [--runs N] [--fault-seconds S] [--rate R] [--seed N] [--cluster-dir DIR]
import { parseArgs } from 'node:util'
import { detail, reliabilityTable } from './report.ts'
import { LONG_FORM, runScenarioA, type ScenarioResult, VARIANTS } from './scenario-a.ts'

function usage(message: string): never {
  process.stderr.write(
    `chaos: ${message}\nusage: node chaos/run.ts [--scenario a|c] [--runs N] [--fault-seconds S] [--rate R] [--seed N] [--cluster-dir DIR]\n`,
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
const scenario = values.scenario ?? 'a'
if (scenario !== 'a' && scenario !== 'c') usage(`--scenario must be a or c, got ${JSON.stringify(scenario)}`)
const runs = positiveInteger('runs', values.runs, 1)
const faultSeconds = positiveInteger('fault-seconds', values['fault-seconds'], LONG_FORM.faultSeconds)
const rate = positiveInteger('rate', values.rate, LONG_FORM.rate)
const firstSeed = positiveInteger('seed', values.seed, Date.now() % 1_000_000)

const log = (message: string) =>
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const results: ScenarioResult[] = []
for (let run = 0; run < runs; run++) {
  const result = await runScenarioA({
    ...LONG_FORM,
    variant: scenario,
    faultSeconds,
    rate,
    seed: firstSeed + run,
    ...(values['cluster-dir'] ? { clusterDir: values['cluster-dir'] } : {}),
    log,
  })
  results.push(result)
  process.stdout.write(`\n${detail(result)}\n\n`)
}
process.stdout.write(
  `scenario ${scenario.toUpperCase()} (${VARIANTS[scenario].style} style, ${VARIANTS[scenario].groupProtocol} protocol): ${runs} run(s), \`npm run chaos${scenario === 'a' ? '' : ` -- --scenario ${scenario}`}\`${faultSeconds === LONG_FORM.faultSeconds ? '' : ` --fault-seconds ${faultSeconds}`}\n\n${reliabilityTable(results)}\n`,
)
process.exitCode = results.every((r) => r.check.ok) ? 0 : 1
