// One no-op multilane share member at the app level (`app.shareGroup`, continuous, unordered,
// capacity 1000): joins a fresh share group, handles records until `records` were handled, then
// stops (its acknowledgements flushed) and checks with the broker that none is left
// unacknowledged. Prints one JSON line, timed as multilane-share-member.ts (the bare engine):
//   ms   from app.start() (join included, as ShareConsumerPerformance measures) to the last record handled
//   node bench/share/multilane-share-app-member.ts --bootstrap h:p --topic t --group g --records N [--max-records N]
import { createApp, describeShareGroup } from '../../src/index.ts'
import { type FlagValue, intFlag, runCli, stringFlag, UsageError } from '../throughput/flags.ts'

function required(flags: Map<string, FlagValue>, name: string): string {
  const value = stringFlag(flags, name)
  if (value === undefined) throw new UsageError(`--${name} is required`)
  return value
}

await runCli(
  'multilane-share-app-member',
  {
    bootstrap: { kind: 'string', required: true, description: 'host:port[,…]' },
    topic: { kind: 'string', required: true, description: 'topic to consume' },
    group: {
      kind: 'string',
      required: true,
      description: 'share group (configured to start at the earliest offset)',
    },
    records: { kind: 'int', required: true, min: 1, max: 1_000_000_000, description: 'records to consume' },
    'max-records': { kind: 'int', min: 1, max: 100_000, description: 'records per fetch (default 500)' },
  },
  process.argv.slice(2),
  async (flags) => {
    const records = intFlag(flags, 'records', 0)
    if (records <= 0) throw new UsageError('--records is required')
    const bootstrap = required(flags, 'bootstrap')
    const group = required(flags, 'group')
    const kafka = { bootstrap, clientId: 'bench-share-app' }
    let handled = 0
    let lastAt = 0
    let done!: () => void
    const finished = new Promise<void>((resolve) => {
      done = resolve
    })
    const app = createApp({ kafka, logger: false, statisticsIntervalMs: 0 })
    app.shareGroup(group, (g) =>
      g.topic(required(flags, 'topic'), {
        processing: {
          style: 'continuous',
          ordering: 'unordered',
          capacity: 1000,
          maxPollRecords: intFlag(flags, 'max-records', 500),
        },
        handler: () => {
          lastAt = performance.now()
          if (++handled === records) done()
        },
      }),
    )
    let errors = 0
    app.on('error.occurred', () => errors++)
    const started = performance.now()
    await app.start()
    await finished
    await app.stop()
    const d = await describeShareGroup(kafka, group)
    const ms = lastAt - started
    process.stdout.write(
      `${JSON.stringify({
        name: 'multilane-app',
        records: handled,
        ms,
        recordsPerSec: Math.round((handled / ms) * 1000),
        lag: d.partitions.map((p) => p.lag),
        errors,
      })}\n`,
    )
    return 0
  },
)
