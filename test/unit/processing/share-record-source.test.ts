// A share member's close ends by the shutdown deadline, whatever a draining revocation does: a
// revocation whose acknowledgements the broker never answers (no leader, repeated session
// errors) must not hold stop() past shutdownTimeoutMs.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { ShareConsumer } from '../../../src/engine/share/share-consumer.ts'
import type { TopicPartition } from '../../../src/engine/types.ts'
import { EventBus } from '../../../src/instrumentation/events.ts'
import type { SourceHooks } from '../../../src/processing/record-source.ts'
import { ShareProgress } from '../../../src/processing/share-group/progress.ts'
import { ShareRecordSource } from '../../../src/processing/share-group/runtime.ts'
import { promised } from '../../support/share-acknowledger.ts'

/** The part of a ShareConsumer the record source uses, with assignments pushed by the test. */
class FakeShareConsumer extends EventEmitter {
  running = true
  closed = false
  stopFetching(): void {}
  renewsLocks(): boolean {
    return true
  }
  async close(): Promise<void> {
    this.closed = true
    this.running = false
  }
  assign(added: TopicPartition[], removed: TopicPartition[]): void {
    this.emit('assignment', { added, removed })
  }
}

test('close() ends by the shutdown deadline while a revocation drain never settles', async () => {
  const consumer = new FakeShareConsumer()
  const progress = new ShareProgress({
    groupId: 'g',
    events: new EventBus(),
    member: promised({ acknowledge: () => new Promise(() => {}), flush: () => new Promise(() => {}) }),
    maxWaitMs: 500,
  })
  const revoked: string[] = []
  const source = new ShareRecordSource(
    consumer as unknown as ShareConsumer,
    {
      onAssigned: async () => {},
      // A revocation's drain whose flush waits on acknowledgements nobody answers.
      onRevoked: (partitions, reason) => {
        revoked.push(`${reason}:${partitions.map((p) => p.partition).join(',')}`)
        return reason === 'revoked' ? new Promise<void>(() => {}) : Promise.resolve()
      },
      onFatal: () => {},
      onPositionReset: () => {},
    } satisfies SourceHooks,
    progress,
    300,
    new Map([['t', 1]]),
  )
  consumer.assign([{ topic: 't', partition: 0 }], [])
  await new Promise((r) => setImmediate(r))
  consumer.assign([], [{ topic: 't', partition: 0 }])
  await new Promise((r) => setImmediate(r))
  const started = Date.now()
  const closed = source.close().then(() => 'closed')
  const result = await Promise.race([closed, new Promise((r) => setTimeout(() => r('hung'), 5000))])
  assert.equal(result, 'closed', 'close() returned')
  assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`)
  assert.deepEqual(revoked, ['revoked:0'])
  assert.ok(consumer.closed, 'the member was closed')
})
