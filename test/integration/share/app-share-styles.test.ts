// Share groups through the app, the processing styles: the blocking style (poll up
// to maxPollRecords → process them all → acknowledge → poll), the record_limit acquire mode
// (each fetch capped at maxPollRecords, nothing fetched ahead: what a blocked member does not
// take, the other members get), and key ordering within one member — on a real broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('share groups in the app: styles', () => {
  it('blocking: each poll takes at most maxPollRecords, runs them all, then polls again; every record accepted once', async () => {
    const topic = await createTopic('share-app-blocking', 1)
    const group = await shareGroup('share-app-blocking')
    const total = 300
    const maxPollRecords = 25
    let running = 0
    let maxRunning = 0
    /** Sizes of the polls, as the handlers saw them: a poll starts when nothing runs. */
    const polls: number[] = []
    const handled = new Map<number, number>()
    const a = shareTestApp('share-blocking')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        // capacity above maxPollRecords: only the poll size limits what runs at once.
        processing: { style: 'blocking', maxPollRecords, capacity: 100 },
        handler: async (record) => {
          if (running === 0) polls.push(0)
          polls[polls.length - 1]!++
          running++
          maxRunning = Math.max(maxRunning, running)
          await sleep(5 + Math.random() * 25)
          running--
          handled.set(record.offset, (handled.get(record.offset) ?? 0) + 1)
        },
      }),
    )
    await a.start()
    try {
      await produceRecords(topic, total, { partitions: 1, batchSize: 100 })
      await waitUntil(() => handled.size === total, { timeoutMs: 60_000, message: `${total} handled` })
      await lagZero(group)
    } finally {
      await a.stop()
    }
    assert.ok(maxRunning <= maxPollRecords, `at most ${maxPollRecords} at once (saw ${maxRunning})`)
    assert.ok(
      polls.every((n) => n <= maxPollRecords),
      `poll sizes ${polls.join(',')}`,
    )
    assert.ok(polls.length >= total / maxPollRecords, `${polls.length} polls`)
    assert.deepEqual(
      [...handled].filter(([, n]) => n !== 1),
      [],
      'each record handled once',
    )
  })

  it("blocking with acquireMode 'record_limit': a member holds only the poll it runs; the other members get the rest at once", async () => {
    const topic = await createTopic('share-app-record-limit', 1)
    // A long lock: records a blocked member held would come back only after a minute.
    const group = await shareGroup('share-app-record-limit', { recordLockDurationMs: 60_000 })
    const total = 200
    const maxPollRecords = 10
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const byA: number[] = []
    const byB: number[] = []
    const a = shareTestApp('share-record-limit-a')
    a.shareGroup(group, (g) => {
      g.options({ acquireMode: 'record_limit' })
      g.topic(topic, {
        processing: { style: 'blocking', maxPollRecords, capacity: 100 },
        handler: async (record) => {
          byA.push(record.offset)
          await gate
        },
      })
    })
    const b = shareTestApp('share-record-limit-b')
    b.shareGroup(group, (g) => g.topic(topic, { handler: (record) => void byB.push(record.offset) }))
    let aAssigned = false
    a.on('partitions.assigned', () => {
      aAssigned = true
    })
    await a.start()
    try {
      await waitUntil(() => aAssigned, { message: 'A assigned' })
      // One producer batch: a batch_optimized fetch would acquire all of it.
      await produceRecords(topic, total, { partitions: 1, batchSize: total })
      await waitUntil(() => byA.length > 0, { message: 'A runs its first poll' })
      const first = byA.length
      assert.ok(first <= maxPollRecords, `A's first poll took ${first} records`)
      // A is blocked in its first poll: with no fetch ahead it holds nothing else.
      await b.start()
      await waitUntil(() => byB.length === total - first, {
        timeoutMs: 20_000,
        message: `B handles the ${total - first} records A does not hold`,
      })
      assert.equal(byA.length, first, 'A took nothing while its poll ran')
      open()
      await lagZero(group)
    } finally {
      open()
      await Promise.all([a.stop(), b.stop()])
    }
    const all = [...byA, ...byB].sort((x, y) => x - y)
    assert.deepEqual(all, [...Array(total).keys()], 'every record handled exactly once, by A or B')
  })

  it("key ordering: within one member a key's records run one at a time, in offset order; other keys run meanwhile", async () => {
    const topic = await createTopic('share-app-key', 1)
    const group = await shareGroup('share-app-key')
    const total = 400
    const keys = 8
    interface Run {
      offset: number
      start: number
      end: number
    }
    const members = [0, 1].map(() => ({
      byKey: new Map<string, Run[]>(),
      running: 0,
      maxRunning: 0,
      handled: 0,
    }))
    const apps = members.map((m, i) => {
      const a = shareTestApp(`share-key-${i}`)
      a.shareGroup(group, (g) =>
        g.topic(topic, {
          processing: { ordering: 'key', capacity: 20 },
          handler: async (record) => {
            const key = record.key!.toString()
            const run: Run = { offset: record.offset, start: performance.now(), end: Number.NaN }
            m.byKey.set(key, [...(m.byKey.get(key) ?? []), run])
            m.running++
            m.maxRunning = Math.max(m.maxRunning, m.running)
            await sleep(2 + Math.random() * 10)
            m.running--
            run.end = performance.now()
            m.handled++
          },
        }),
      )
      return a
    })
    const joined = new Set<number>()
    for (const [i, a] of apps.entries()) a.on('partitions.assigned', () => joined.add(i))
    await Promise.all(apps.map((a) => a.start()))
    try {
      await waitUntil(() => joined.size === 2, { message: 'both members assigned' })
      await produceRecords(topic, total, {
        partitions: 1,
        batchSize: 40,
        record: (i) => ({ key: `k${i % keys}`, value: `v${i}`, partition: 0, headers: {} }),
      })
      await waitUntil(() => members[0]!.handled + members[1]!.handled === total, {
        timeoutMs: 60_000,
        message: `${total} handled`,
      })
      await lagZero(group)
    } finally {
      await Promise.all(apps.map((a) => a.stop()))
    }
    for (const [i, m] of members.entries()) {
      for (const [key, runs] of m.byKey) {
        for (let j = 1; j < runs.length; j++) {
          const before = runs[j - 1]!
          const run = runs[j]!
          assert.ok(
            run.offset > before.offset,
            `member ${i}, ${key}: offset ${run.offset} after ${before.offset}`,
          )
          assert.ok(
            run.start >= before.end,
            `member ${i}, ${key}: offset ${run.offset} started before ${before.offset} ended`,
          )
        }
      }
    }
    assert.ok(
      members.some((m) => m.maxRunning > 1),
      `different keys ran at the same time (max ${members.map((m) => m.maxRunning)})`,
    )
  })

  it('the handler context in a share group: deliveryCount; ctx.commit() acknowledges now; ctx.seek() and ctx.pause() throw typed errors', async () => {
    const topic = await createTopic('share-app-context', 1)
    const group = await shareGroup('share-app-context')
    await produceRecords(topic, 20, { partitions: 1 })
    const codes: string[] = []
    const handled = new Set<number>()
    let committed = false
    const a = shareTestApp('share-context')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        handler: async (record, ctx) => {
          assert.equal(record.deliveryCount, 1)
          if (record.offset === 0) {
            for (const call of [() => ctx.seek(0), () => ctx.pause(), () => ctx.resume()]) {
              try {
                call()
                codes.push('none')
              } catch (error) {
                codes.push((error as { code?: string }).code ?? String(error))
              }
            }
          }
          handled.add(record.offset)
          if (record.offset === 5) {
            await ctx.commit()
            committed = true
          }
        },
      }),
    )
    await a.start()
    try {
      // A paused partition would stop here: the member takes no more records of it.
      await waitUntil(() => handled.size === 20 && committed, { message: 'all 20 handled' })
      await lagZero(group)
    } finally {
      await a.stop()
    }
    assert.deepEqual(codes, ['SEEK_UNSUPPORTED', 'PAUSE_UNSUPPORTED', 'PAUSE_UNSUPPORTED'])
  })
})
