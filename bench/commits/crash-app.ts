// The consumer that bench/commits/crash-duplicates.ts runs in a child process and SIGKILLs: one
// member of a consumer group, continuous style, unordered, capacity CRASH_CAPACITY, each handler
// sleeping 1 to CRASH_WORK_MS ms. Appends to CRASH_LOG, synchronously (a SIGKILL loses nothing
// already written), one line per handler start, accepted commit and assignment:
//
//   s <partition> <offset> <epoch ms>
//   c <epoch ms>
//   a <epoch ms>
//
// CRASH_SRC is the multilane entry module to load (default: this checkout's src/index.ts), so the
// same app runs against another checkout for a before/after comparison; CRASH_COMMIT_AFTER_RECORDS,
// when set, is passed as processing.commitAfterRecords.
import { openSync, writeSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`bench/commits/crash-app.ts: environment variable ${name} is not set`)
  return value
}

const source = process.env.CRASH_SRC
const entry = source
  ? pathToFileURL(isAbsolute(source) ? source : resolve(source)).href
  : new URL('../../src/index.ts', import.meta.url).href
const { createApp } = (await import(entry)) as typeof import('../../src/index.ts')

const topic = required('CRASH_TOPIC')
const group = required('CRASH_GROUP')
const capacity = Number(required('CRASH_CAPACITY'))
const workMs = Number(required('CRASH_WORK_MS'))
const commitAfterRecords = process.env.CRASH_COMMIT_AFTER_RECORDS
const log = openSync(required('CRASH_LOG'), 'a')
const now = () => Math.round(performance.timeOrigin + performance.now())

const app = createApp({ kafka: { clientId: 'crash-duplicates' }, logger: false, statisticsIntervalMs: 0 })
app.consumerGroup(group, (g) => {
  g.options({ autoOffsetReset: 'earliest' })
  g.topic(topic, {
    processing: {
      style: 'continuous',
      capacity,
      ordering: 'unordered',
      ...(commitAfterRecords ? { commitAfterRecords: Number(commitAfterRecords) } : {}),
    },
    handler: async (record) => {
      writeSync(log, `s ${record.partition} ${record.offset} ${now()}\n`)
      await new Promise((r) => setTimeout(r, 1 + Math.random() * (workMs - 1)))
    },
  })
})
app.on('offsets.committed', () => void writeSync(log, `c ${now()}\n`))
app.on('partitions.assigned', () => void writeSync(log, `a ${now()}\n`))

await app.run()
