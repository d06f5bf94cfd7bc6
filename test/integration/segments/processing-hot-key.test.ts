// The seed's hot-key case: a batch where 80 % of the records belong to one
// user and 20 % to another, with CPU-bound handling. Virtual partitions (key ordering in one
// process) cannot spread it: the hot user's records run one at a time in one lane, and all the
// work runs in one process (one core). Two segments in two processes do: each user's records
// run in their own process. Shown by where each record ran, not by timing.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { test } from 'node:test'
import { spawnFixture } from '../../support/fixture-process.ts'
import {
  bootstrapServers,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'
import { segmentGroups, waitCommittedAtEnd } from '../../support/segment-processing.ts'

const RECORDS = 1000
/** The seed's example: user 123 has 800 of the batch's 1,000 records, user 456 the other 200. */
const userOf = (i: number) => (i % 5 === 4 ? '456' : '123')

interface Ran {
  pid: number
  segment: number
  user: string
  record: string
  /** Records of the same user running in that process when this one started (itself included). */
  concurrent: number
}

interface Member {
  child: ChildProcess
  ran: Ran[]
  ready: () => boolean
  exit: Promise<number | null>
}

function startMember(topic: string, origin: string, mode: 'vp' | 'segments', ids?: string): Member {
  const ran: Ran[] = []
  let ready = false
  const child = spawnFixture(
    'processing-hot-key-app.ts',
    [bootstrapServers().join(','), topic, origin, mode, ...(ids ? [ids] : [])],
    (line) => {
      if (line === 'READY') ready = true
      const [tag, pid, segment, user, record, concurrent] = line.split(' ')
      if (tag === 'H') {
        ran.push({
          pid: Number(pid),
          segment: Number(segment),
          user: user!,
          record: record!,
          concurrent: Number(concurrent),
        })
      }
    },
  )
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, ran, ready: () => ready, exit }
}

async function produceBatch(topic: string): Promise<void> {
  await produceRecords(topic, RECORDS, {
    partitions: 1,
    record: (i) => ({ key: `k${i}`, value: `v${i}`, partition: 0, headers: { user: userOf(i) } }),
  })
}

async function stopAll(members: Member[]): Promise<void> {
  for (const m of members) m.child.kill('SIGTERM')
  const codes = await within(Promise.all(members.map((m) => m.exit)), 30_000)
  if (codes === 'timed out') for (const m of members) m.child.kill('SIGKILL')
  assert.notEqual(codes, 'timed out', 'members stop on SIGTERM')
  assert.deepEqual(
    codes,
    members.map(() => 0),
    'graceful exits',
  )
}

/** Share of all handled records that ran in the busiest process. */
function busiestShare(ran: Ran[]): number {
  const perPid = new Map<number, number>()
  for (const r of ran) perPid.set(r.pid, (perPid.get(r.pid) ?? 0) + 1)
  return Math.max(...perPid.values()) / ran.length
}

test('hot key (80 % one user): virtual partitions keep it in one lane of one process; two segment processes split the users', async () => {
  // Virtual partitions: one process, key ordering by user, 8 lanes.
  const vpTopic = await createTopic('seg-hot-vp', 1)
  const vpOrigin = uniqueName('seg-hot-vp')
  const vp = startMember(vpTopic, vpOrigin, 'vp')

  try {
    await waitUntil(vp.ready, { timeoutMs: 60_000, message: 'the VP member has its partition' })
    await produceBatch(vpTopic)
    await waitUntil(() => vp.ran.length >= RECORDS, { timeoutMs: 90_000, message: 'VP: all handled' })
    await waitCommittedAtEnd([vpOrigin], vpTopic, 1)
  } finally {
    await stopAll([vp])
  }
  const vpRan = vp.ran
  assert.equal(vpRan.length, RECORDS)
  assert.equal(new Set(vpRan.map((r) => r.pid)).size, 1, 'VP: all work in one process')
  assert.equal(busiestShare(vpRan), 1)
  const hot = vpRan.filter((r) => r.user === '123')
  assert.equal(hot.length, 800)
  assert.ok(
    hot.every((r) => r.concurrent === 1),
    "VP: the hot user's records never run side by side (one lane: key order)",
  )

  // Parallel segments: count 2 by user; segment 0 in one process, segment 1 in another.
  const segTopic = await createTopic('seg-hot-seg', 1)
  const segOrigin = uniqueName('seg-hot-seg')
  const members = [
    startMember(segTopic, segOrigin, 'segments', '0'),
    startMember(segTopic, segOrigin, 'segments', '1'),
  ]
  try {
    await waitUntil(() => members.every((m) => m.ready()), {
      timeoutMs: 60_000,
      message: 'both segments assigned',
    })
    await produceBatch(segTopic)
    await waitUntil(() => members.reduce((n, m) => n + m.ran.length, 0) >= RECORDS, {
      timeoutMs: 90_000,
      message: 'segments: all handled',
    })
    await waitCommittedAtEnd(segmentGroups(segOrigin, 2), segTopic, 1)
  } finally {
    await stopAll(members)
  }
  const segRan = members.flatMap((m) => m.ran)
  assert.equal(segRan.length, RECORDS, 'each record once')
  assert.equal(new Set(segRan.map((r) => r.record)).size, RECORDS)
  const pidsOf = (user: string) => new Set(segRan.filter((r) => r.user === user).map((r) => r.pid))
  const [hotPids, coldPids] = [pidsOf('123'), pidsOf('456')]
  assert.deepEqual([hotPids.size, coldPids.size], [1, 1], 'each user in one process')
  assert.notEqual([...hotPids][0], [...coldPids][0], 'the two users ran in two processes')
  assert.deepEqual(
    members.map((m) => [...new Set(m.ran.map((r) => `${r.segment}:${r.user}`))]),
    [['0:123'], ['1:456']],
    "each process ran only its segment's user",
  )
  assert.equal(busiestShare(segRan), 0.8, 'the busiest process has 80 % of the work, not 100 %')
})
