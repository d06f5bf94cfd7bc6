// One soak member (chaos/soak-member.ts) alone, under the Node flags given, with where its RSS is:
// every sample adds V8's resident new and old space and the process's resident memory by mapping
// (/proc/<pid>/smaps, Linux only: the node binary, anonymous mappings — V8's pages, glibc's thread
// arenas, large allocations —, glibc's main heap `[heap]`). For comparing V8 and allocator
// settings side by side: start one per setting at the same time. Prints one JSON line per sample.
//
//   node chaos/soak-one.ts [--kind consumer|segments|share] [--minutes M] [--backlog N]
//                          [--node-flags="--max-semi-space-size=8 …"] [--bootstrap h:p,…]
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { preloadTopic } from '../bench/throughput/preload.ts'
import type { FromMember, MemberSpec, SoakKind } from './soak-member.ts'

const USAGE =
  'usage: node chaos/soak-one.ts [--kind consumer|segments|share] [--minutes M] [--backlog N] [--node-flags="--flag …"] [--bootstrap host:port,…]'
function usage(message: string): never {
  process.stderr.write(`soak-one: ${message}\n${USAGE}\n`)
  process.exit(2)
}

const parse = () =>
  parseArgs({
    options: {
      kind: { type: 'string', default: 'consumer' },
      minutes: { type: 'string', default: '20' },
      backlog: { type: 'string', default: '1000000' },
      'node-flags': { type: 'string', default: '' },
      bootstrap: { type: 'string', default: process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092' },
    },
    strict: true,
  })
let values: ReturnType<typeof parse>['values']
try {
  values = parse().values
} catch (error) {
  usage((error as Error).message)
}
const kind = values.kind as SoakKind
if (!['consumer', 'segments', 'share'].includes(kind))
  usage(`--kind must be consumer, segments or share, got ${JSON.stringify(values.kind)}`)
const minutes = Number(values.minutes)
const backlog = Number(values.backlog)
if (!(minutes > 0)) usage(`--minutes must be a number > 0, got ${JSON.stringify(values.minutes)}`)
if (!Number.isSafeInteger(backlog) || backlog < 1)
  usage(`--backlog must be an integer ≥ 1, got ${JSON.stringify(values.backlog)}`)
const bootstrap = values.bootstrap.split(',')
const flags = values['node-flags'].split(' ').filter(Boolean)

const { topic } = await preloadTopic(bootstrap, { records: backlog, bytes: 1024, partitions: 6 })
const spec: MemberSpec = {
  kind,
  bootstrap,
  topic,
  group: `soak-one-${kind}-${Date.now().toString(36)}`,
  capacity: 500,
  segments: 2,
  handlerMs: kind === 'segments' ? 2000 : 1000,
  sampleMs: 10_000,
}
const child = fork(join(import.meta.dirname, 'soak-member.ts'), [JSON.stringify(spec)], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  execArgv: [...process.execArgv, ...flags],
})

const MB = 2 ** 20
/** Resident MB by mapping: the node binary, other files, `[heap]`, anonymous. */
function residentByMapping(pid: number): Record<string, number> {
  const kb: Record<string, number> = {}
  let name = ''
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (mapping) {
      const path = mapping[1] ?? ''
      name =
        path === ''
          ? 'anonymous'
          : path.startsWith('/')
            ? path === process.execPath
              ? 'node'
              : 'files'
            : path
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss) kb[name] = (kb[name] ?? 0) + Number(rss[1])
  }
  return Object.fromEntries(
    Object.entries(kb)
      .filter(([, v]) => v >= 1024)
      .map(([k, v]) => [k, Math.round(v / 1024)]),
  )
}

child.on('message', (m: FromMember) => {
  if (m.type !== 'sample' || child.pid === undefined) return
  const mb = (n: number) => Math.round(n / MB)
  const line = {
    s: Math.round(m.atMs / 1000),
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    newSpace: mb(m.newSpace),
    oldSpace: mb(m.oldSpace),
    arrayBuffers: mb(m.arrayBuffers),
    handled: m.handled,
    mappings: residentByMapping(child.pid),
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
})
child.once('exit', (code) => process.exit(code ?? 1))
setTimeout(() => child.send({ type: 'stop' }), minutes * 60_000)
