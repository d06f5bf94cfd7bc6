// A share member that stops at once (a fatal session error) tells every acknowledgement it had
// queued or was about to resend exactly once, as not applied (lock_lost): none is left waiting
// for an answer that will never come (a flush waiting on it would hang). Nothing is acknowledged
// after the stop; the records whose acknowledgement was not applied come back to the next member
// (at-least-once). The fatal error comes from a proxy in front of the real broker.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AckListener } from '../../../src/engine/share/ack-entry.ts'
import type { AckResult, ShareRecord } from '../../../src/engine/share/types.ts'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil, within } from '../../support/kafka.ts'
import { createShareMember, lagZero, ShareWorker, shareGroup } from '../../support/share.ts'

const SHARE_FETCH = 78
const SHARE_ACKNOWLEDGE = 79
/** A top-level ShareFetch / ShareAcknowledge error no retry fixes (requestFatal). */
const INVALID_REQUEST = 42

describe('share member stopped by a fatal session error', () => {
  let proxy: FaultProxy
  before(async () => {
    proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!)
  })
  after(async () => {
    await proxy.close()
  })

  it('tells each queued acknowledgement once, as lock_lost; the records come back to the next member', async () => {
    const total = 10
    const topic = await createTopic('share-abort-acks', 1)
    const groupId = await shareGroup('share-abort-acks')
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    const fatal = new Promise<Error>((resolve) => consumer.once('fatal', resolve))
    await consumer.start()
    await produceRecords(topic, total, { partitions: 1 })
    const taken: ShareRecord[] = []
    await waitUntil(
      async () => {
        await consumer.waitForRecords(200)
        for (const batch of consumer.takeRecords()) taken.push(...batch.records)
        return taken.length === total
      },
      { timeoutMs: 60_000, message: `the member takes all ${total} records` },
    )

    // The next answer of the session, whichever request it is, is a fatal error: the member stops
    // with the accepts queued (or put back after the failed request), never applied.
    proxy.inject({ apiKey: SHARE_FETCH, kind: 'error-code', errorCode: INVALID_REQUEST, count: 1 })
    proxy.inject({ apiKey: SHARE_ACKNOWLEDGE, kind: 'error-code', errorCode: INVALID_REQUEST, count: 1 })
    const told = new Map<number, AckResult[]>()
    const listener: AckListener = {
      acknowledged(r) {
        told.set(r.offset, [...(told.get(r.offset) ?? []), r])
      },
    }
    for (const record of taken) consumer.acknowledgeTo(record, 'accept', listener)
    const flushed = consumer.flush()
    await within(fatal, 30_000)
    await consumer.close()
    proxy.clear()

    // Bounded: before, the acknowledgements queued at the stop were never answered.
    await waitUntil(() => told.size === total, {
      timeoutMs: 10_000,
      message: `every accept answered (${told.size} of ${total})`,
    })
    assert.notEqual(await within(flushed, 10_000), 'timed out', 'the flush returned')
    for (const [offset, results] of told) {
      assert.equal(results.length, 1, `offset ${offset} told once`)
      assert.equal(results[0]!.outcome, 'lock_lost', `offset ${offset}: not applied`)
      assert.equal(results[0]!.error?.code, 'LOCK_LOST')
    }

    // Nothing lost: the next member gets every record the broker did not see accepted.
    const next = createShareMember({ groupId, topics: [topic] })
    await next.consumer.start()
    const worker = new ShareWorker(next.consumer)
    try {
      await lagZero(groupId, 60_000)
    } finally {
      await worker.stop()
    }
    assert.ok(
      worker.deliveries.every((r) => r.deliveryCount >= 2),
      'only records delivered again',
    )
    assert.equal(new Set(worker.applied('accept')).size, worker.deliveries.length, 'each accepted')
  })
})
