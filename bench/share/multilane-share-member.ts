// One no-op multilane share member (the engine's ShareConsumer): joins a fresh share group,
// accepts every record it gets, and stops after `records` records. Prints one JSON line:
//   ms            from start() (join included, as ShareConsumerPerformance measures) to the last record taken
//   msAcknowledged  … to the last accept confirmed by the broker
//   node bench/share/multilane-share-member.ts --bootstrap h:p --topic t --group g --records N [--max-records N]
import { ShareConsumer } from '../../src/index.ts'
import { type FlagValue, intFlag, runCli, stringFlag, UsageError } from '../throughput/flags.ts'

function required(flags: Map<string, FlagValue>, name: string): string {
  const value = stringFlag(flags, name)
  if (value === undefined) throw new UsageError(`--${name} is required`)
  return value
}

await runCli(
  'multilane-share-member',
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
    const consumer = new ShareConsumer({
      bootstrap: required(flags, 'bootstrap'),
      clientId: 'bench-share-multilane',
      groupId: required(flags, 'group'),
      topics: [required(flags, 'topic')],
      maxRecords: intFlag(flags, 'max-records', 500),
    })
    let failed = 0
    let acknowledged = 0
    let lastAcknowledgedAt = 0
    consumer.on('acknowledged', (e) => {
      for (const r of e.results) {
        if (r.outcome === 'ok') acknowledged++
        else failed++
      }
      lastAcknowledgedAt = performance.now()
    })
    const started = performance.now()
    await consumer.start()
    let taken = 0
    let lastTakenAt = started
    let idleSince = performance.now()
    while (taken < records) {
      await consumer.waitForRecords(200)
      const batches = consumer.takeRecords(records - taken)
      if (batches.length === 0) {
        if (performance.now() - idleSince > 30_000)
          throw new Error(`no record for 30 s after ${taken} of ${records}`)
        continue
      }
      idleSince = performance.now()
      for (const batch of batches) {
        for (const record of batch.records) void consumer.acknowledge(record, 'accept')
        taken += batch.records.length
      }
      lastTakenAt = performance.now()
    }
    await consumer.flush()
    const stats = consumer.stats()
    await consumer.close()
    const ms = lastTakenAt - started
    process.stdout.write(
      `${JSON.stringify({
        name: 'multilane',
        records: taken,
        ms,
        recordsPerSec: Math.round((taken / ms) * 1000),
        msAcknowledged: lastAcknowledgedAt - started,
        acknowledged,
        failed,
        requests: stats.sessions.reduce((n, s) => n + s.requests, 0),
      })}\n`,
    )
    return 0
  },
)
