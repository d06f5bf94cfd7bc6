// CPU-bound user code does not starve the event loop: with synchronous handlers of 30 ms, or
// synchronous segment or virtual-partitions partitioners of 15 ms, and a backlog that makes a
// take worth seconds of work, the runtime yields between user calls once its time slice is
// spent. Heartbeats keep the member in its group (no partition lost, no error), every record
// is handled exactly once, the groups commit at the log end, and the longest event-loop stall
// of the app's process stays near one user call, far below the session timeout.
import assert from 'node:assert/strict'
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

/**
 * Generous: a stall is one user call (30 ms) plus a slice of a few ms per member, stretched
 * by a loaded machine. Without time slicing a take held the loop for 4–12 s in these cases.
 */
const STALL_BOUND_MS = 1000

interface Case {
  name: string
  work: 'handler' | 'partitioner' | 'virtual'
  style: 'blocking' | 'continuous'
  segments: number
  partitions: number
  records: number
}

const CASES: Case[] = [
  {
    name: 'a consumer group with 30 ms synchronous handlers (blocking, 400 backlogged)',
    work: 'handler',
    style: 'blocking',
    segments: 1,
    partitions: 1,
    records: 400,
  },
  {
    name: '2 parallel segments in one process with 30 ms synchronous handlers (continuous, 400 backlogged)',
    work: 'handler',
    style: 'continuous',
    segments: 2,
    partitions: 2,
    records: 400,
  },
  {
    name: '2 parallel segments in one process with a 15 ms synchronous segment partitioner (blocking, 300 backlogged)',
    work: 'partitioner',
    style: 'blocking',
    segments: 2,
    partitions: 1,
    records: 300,
  },
  {
    name: 'a consumer group with a 15 ms synchronous virtual-partitions partitioner (continuous, 400 backlogged)',
    work: 'virtual',
    style: 'continuous',
    segments: 1,
    partitions: 1,
    records: 400,
  },
]

for (const c of CASES) {
  test(`${c.name}: never fenced, each record once, committed at the end, event loop never stalled`, async (t) => {
    const topic = await createTopic(`cpu-${c.work}`, c.partitions)
    await produceRecords(topic, c.records, { partitions: c.partitions })
    const group = uniqueName(`cpu-${c.work}`)
    const groups = c.segments > 1 ? segmentGroups(group, c.segments) : [group]
    const handled: string[] = []
    const problems: string[] = []
    let stall = 0
    const child = spawnFixture(
      'cpu-bound-app.ts',
      [bootstrapServers().join(','), topic, group, c.work, c.style, String(c.segments)],
      (line) => {
        if (line.startsWith('H ')) handled.push(line.slice(2))
        else if (line.startsWith('S ')) stall = Number(line.slice(2))
        else if (line.startsWith('E ') || line.startsWith('L ')) problems.push(line)
      },
    )
    let stopping = false
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (!stopping) problems.push(`the app exited early (${signal ?? code})`)
        resolve()
      }),
    )
    // Fails as soon as it shows rather than after the commit wait times out.
    const check = (): void => {
      assert.deepEqual(problems, [], 'no error event and no lost partition (the member was never fenced)')
      assert.ok(stall < STALL_BOUND_MS, `longest event-loop stall ${stall} ms (bound ${STALL_BOUND_MS} ms)`)
    }
    try {
      await waitUntil(
        () => {
          check()
          return handled.length >= c.records
        },
        { timeoutMs: 180_000, message: `${c.records} records handled (have ${handled.length})` },
      )
      await waitCommittedAtEnd(groups, topic, c.partitions, 120_000)
      check()
    } finally {
      stopping = true
      child.kill('SIGTERM')
      if ((await within(exited, 30_000)) === 'timed out') {
        child.kill('SIGKILL')
        await exited
      }
    }
    check()
    t.diagnostic(`longest event-loop stall: ${stall} ms`)
    assert.equal(new Set(handled).size, c.records, 'every record handled')
    assert.equal(handled.length, c.records, 'no record handled twice')
  })
}
