// A share member whose broker connections are reset (TCP RST: ECONNRESET, as when a broker dies
// or a network drops them) keeps running: the reset closes its share session, whose locks are
// reported lost, it opens a new one, and every record is still accepted. The reset must not
// reach the process as an unhandled 'error' event (before, it crashed the worker: "Emitted
// 'error' event on Connection instance"). The resets come from a proxy in front of the real
// broker, which a real broker does not do on demand.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { createShareMember, ShareWorker, shareGroup } from '../../support/share.ts'

describe('share member whose connections are reset', () => {
  let proxy: FaultProxy
  const uncaught: Error[] = []
  const onUncaught = (error: Error) => uncaught.push(error)
  before(async () => {
    proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!)
    process.on('uncaughtException', onUncaught)
  })
  after(async () => {
    process.off('uncaughtException', onUncaught)
    await proxy.close()
  })

  it('survives ECONNRESET on its session connection: no unhandled error, every record accepted', async () => {
    const topic = await createTopic('share-conn-reset', 1)
    const groupId = await shareGroup('share-conn-reset')
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    await consumer.start()
    const worker = new ShareWorker(consumer)
    try {
      await produceRecords(topic, 10, { partitions: 1 })
      await waitUntil(() => new Set(worker.applied('accept', 0)).size === 10, {
        timeoutMs: 60_000,
        message: 'the first 10 records accepted',
      })
      // Reset everything twice (the session connection and the pooled ones), a moment apart.
      for (let i = 0; i < 2; i++) {
        assert.ok(proxy.resetClients() > 0, 'the member had connections to reset')
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      await produceRecords(topic, 10, { partitions: 1 })
      await waitUntil(() => new Set(worker.applied('accept', 0)).size === 20, {
        timeoutMs: 90_000,
        message: 'all 20 records accepted after the resets',
      })
      assert.deepEqual(
        uncaught.map((e) => e.message),
        [],
        'a reset connection must not throw an unhandled error event',
      )
    } finally {
      await worker.stop()
    }
  })
})
