// Unknown error codes, malformed responses and partition errors (injected by a proxy in front of
// the real broker) surface as typed errors, and the member recovers: nothing is lost, and an
// acknowledgement refused for good does not keep its lock slot.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { KafkaResponseError, MalformedResponseError } from '../../../src/kafka/apis/decode.ts'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { createShareMember, kafkaOptions, ShareWorker, shareGroup } from '../../support/share.ts'

const SHARE_GROUP_HEARTBEAT = 76
const SHARE_FETCH = 78
const SHARE_ACKNOWLEDGE = 79

describe('share member under corrupted responses', () => {
  let proxy: FaultProxy
  before(async () => {
    proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!)
  })
  after(async () => {
    await proxy.close()
  })

  it('a final acknowledgement refused with a partition error frees its lock slots: the member fetches again', async () => {
    const topic = await createTopic('share-ack-failed', 1)
    const groupId = await shareGroup('share-ack-failed')
    // A lock budget of 5: the 5 records of the first fetch fill it, and their accepts go in a
    // ShareAcknowledge (nothing is fetched while the budget is full). Its answer is given a
    // partition error the member cannot retry (INVALID_REQUEST): the 5 accepts settle failed.
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
      maxRecordLocks: 5,
      // Exactly what the budget has room for (batch_optimized may hand out the whole batch).
      acquireMode: 'record_limit',
    })
    await consumer.start()
    const INVALID_REQUEST = 42
    proxy.inject({ apiKey: SHARE_ACKNOWLEDGE, kind: 'partition-error', errorCode: INVALID_REQUEST, count: 1 })
    const worker = new ShareWorker(consumer)
    await produceRecords(topic, 10, { partitions: 1 })
    try {
      // The broker applied those accepts (only the answer was changed): all 10 end up accepted,
      // once the member takes the other 5.
      await waitUntil(() => new Set(worker.deliveries.map((r) => r.offset)).size === 10, {
        timeoutMs: 60_000,
        message: 'the member takes all 10 records (5 locks stayed held after the failed accepts?)',
      })
      assert.equal(proxy.pending(), 0, 'the fault was injected')
      assert.ok(
        worker.results.some((r) => r.outcome === 'failed' && r.type === 'accept'),
        'an accept settled failed',
      )
    } finally {
      await worker.stop()
    }
  })

  it('unknown error codes and malformed responses become typed errors; the member recovers and loses nothing', async () => {
    const total = 600
    const topic = await createTopic('share-faults', 1)
    // Short locks: records acquired by a response the member never saw come back quickly.
    const groupId = await shareGroup('share-faults', { recordLockDurationMs: 2000 })
    const { consumer, log } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
      maxRecords: 20,
    })
    proxy.inject({ apiKey: SHARE_GROUP_HEARTBEAT, kind: 'error-code', errorCode: 9999, count: 1 })
    await consumer.start()
    const worker = new ShareWorker(consumer)
    const accepted = () => new Set(worker.applied('accept')).size
    await produceRecords(topic, total / 2, { partitions: 1, batchSize: 20 })
    await waitUntil(() => accepted() >= 100, { message: '100 accepts before the faults' })

    proxy.inject({ apiKey: SHARE_FETCH, kind: 'error-code', errorCode: 9999, count: 1 })
    proxy.inject({ apiKey: SHARE_FETCH, kind: 'truncate', count: 1 })
    proxy.inject({ apiKey: SHARE_ACKNOWLEDGE, kind: 'error-code', errorCode: 31_999, count: 1 })
    proxy.inject({ apiKey: SHARE_ACKNOWLEDGE, kind: 'truncate', count: 1 })
    await produceRecords(topic, total / 2, {
      partitions: 1,
      batchSize: 20,
      record: (i) => ({ key: `k${i}`, value: `v${total / 2 + i}`, partition: 0, headers: {} }),
    })
    // ShareAcknowledge goes out when asked to flush; keep asking until both of its faults hit.
    await waitUntil(
      async () => {
        await consumer.flush()
        return proxy.pending() === 0
      },
      { timeoutMs: 60_000, message: 'every injected fault was hit' },
    )
    // The broker counts nothing as unacknowledged once the withheld records came back and were accepted.
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), groupId)
        return d.partitions[0]?.lag === 0 && d.partitions[0]?.endOffset === total
      },
      { timeoutMs: 60_000, message: 'share-partition lag 0' },
    )
    await worker.stop()

    const delivered = new Set(worker.deliveries.map((r) => r.offset))
    assert.equal(delivered.size, total, 'every record was delivered')
    assert.ok(
      accepted() >= total - 40,
      `${accepted()} accepts confirmed (the rest were applied in a lost response)`,
    )

    const heartbeat = log.warnings.find((e) => e instanceof KafkaResponseError)
    assert.ok(heartbeat instanceof KafkaResponseError, 'heartbeat: a typed error')
    assert.equal(heartbeat.code, 'UNKNOWN_ERROR_CODE')
    assert.equal(heartbeat.errorCode, 9999)
    const unknown = log.warnings.filter((e) => e instanceof ShareError && e.code === 'UNKNOWN_ERROR_CODE')
    assert.ok(
      unknown.some((e) => /ShareFetch .*unknown Kafka error code 9999/.test(e.message)),
      unknown.map((e) => e.message).join('; '),
    )
    assert.ok(unknown.some((e) => /ShareAcknowledge .*unknown Kafka error code 31999/.test(e.message)))
    const malformed = log.warnings.filter((e) => e instanceof MalformedResponseError)
    assert.deepEqual(malformed.map((e) => (e as MalformedResponseError).api).sort(), [
      'ShareAcknowledge',
      'ShareFetch',
    ])
    assert.ok(
      log.warnings.every(
        (e) =>
          e instanceof ShareError || e instanceof MalformedResponseError || e instanceof KafkaResponseError,
      ),
      `only typed errors: ${log.warnings.map((e) => e.constructor.name).join(', ')}`,
    )
  })

  it('fencing (UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH) and GROUP_ID_NOT_FOUND: the member rejoins with the same id and keeps consuming', async () => {
    const topic = await createTopic('share-fenced', 1)
    const groupId = await shareGroup('share-fenced')
    const { consumer, log } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    const joins: number[] = []
    consumer.on('joined', (e) => joins.push(e.memberEpoch))
    await consumer.start()
    const memberId = consumer.memberId
    const worker = new ShareWorker(consumer)
    await produceRecords(topic, 50, { partitions: 1 })
    await waitUntil(() => worker.applied('accept').length === 50, { message: 'first 50' })
    for (const errorCode of [25, 110, 69]) {
      proxy.inject({ apiKey: SHARE_GROUP_HEARTBEAT, kind: 'error-code', errorCode, count: 1 })
      const before = joins.length
      await waitUntil(() => proxy.pending() === 0, { message: `heartbeat error ${errorCode} injected` })
      // Rejoined before the next injection (the old assignment may still be listed for a moment).
      await waitUntil(() => joins.length > before && consumer.assignment().length === 1, {
        message: `rejoined after heartbeat error ${errorCode}`,
      })
    }
    await produceRecords(topic, 50, {
      partitions: 1,
      record: (i) => ({ key: `k${i}`, value: `v${50 + i}`, partition: 0, headers: {} }),
    })
    await waitUntil(() => worker.applied('accept').length === 100, { message: 'next 50 after rejoining' })
    await worker.stop()
    assert.equal(consumer.memberId, memberId, "the member id is kept for the consumer's life")
    assert.ok(joins.length >= 4, `joined, then rejoined 3 times (epochs ${joins.join(', ')})`)
    const names = log.warnings.map((w) => (w as { apiId?: string }).apiId)
    for (const name of ['UNKNOWN_MEMBER_ID', 'FENCED_MEMBER_EPOCH', 'GROUP_ID_NOT_FOUND'])
      assert.ok(names.includes(name), name)
  })

  it('a fatal coordinator error (GROUP_AUTHORIZATION_FAILED) becomes a fatal event and the member closes', async () => {
    const topic = await createTopic('share-fatal', 1)
    const groupId = await shareGroup('share-fatal')
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    const fatal = new Promise<Error>((resolve) => consumer.once('fatal', resolve))
    await consumer.start()
    proxy.inject({ apiKey: SHARE_GROUP_HEARTBEAT, kind: 'error-code', errorCode: 30, count: 1 })
    const error = await fatal
    assert.ok(error instanceof ShareError)
    // An authorization failure says so (docs/security.md), under its own code.
    assert.equal(error.code, 'AUTHORIZATION_FAILED')
    assert.equal(error.kafkaError, 'GROUP_AUTHORIZATION_FAILED')
    assert.match(error.message, new RegExp(`not authorized to join share group "${groupId}"`))
    await waitUntil(() => !consumer.running, { message: 'the member stopped' })
    const result = await consumer.acknowledge({ topic, partition: 0, offset: 0, deliveryCount: 1 }, 'accept')
    assert.notEqual(result.outcome, 'ok', 'nothing is acknowledged after a fatal error')
  })
})
