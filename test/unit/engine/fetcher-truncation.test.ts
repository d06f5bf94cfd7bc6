// The fetcher's log-truncation handling, with scripted Fetch responses: records buffered below
// the diverging end offset the leader reports are still valid and are handed over, never
// skipped. (test/integration/engine/truncation.test.ts covers truncation on real brokers, with
// an unclean leader election on a cluster of two.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRecordsBatch } from '@platformatic/kafka'
import { Fetcher } from '../../../src/engine/fetcher.ts'
import type { ConsumerRecord, PositionReset } from '../../../src/engine/types.ts'
import type { FetchResponse, FetchResponsePartition } from '../../../src/kafka/apis/fetch-v17.ts'
import type { RecordBatch } from '../../../src/kafka/records/batches.ts'
import { FakeCluster } from '../../support/fake-cluster.ts'
import { waitUntil } from '../../support/kafka.ts'
import { decodeBatches } from '../../support/record-batches.ts'

const TOPIC = 't'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'

function batch(first: number, count: number, epoch: number): RecordBatch {
  const encoded = createRecordsBatch(
    Array.from({ length: count }, (_, i) => ({ topic: TOPIC, value: Buffer.from(`v${first + i}`) })),
    { partitionLeaderEpoch: epoch },
  ).buffer
  const [decoded] = decodeBatches(encoded)
  return { ...decoded!, baseOffset: first }
}

function response(partition: Partial<FetchResponsePartition>): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    nodeEndpoints: [],
    responses: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 100n,
            lastStableOffset: 100n,
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
            snapshotId: { endOffset: -1n, epoch: -1 },
            records: [],
            ...partition,
          },
        ],
      },
    ],
  }
}

/**
 * A cluster of one broker leading the topic's one partition in epoch 2, whose Fetch answers
 * come from `script` (each step may wait for the test), then empty ones after a short wait.
 */
function scriptedCluster(script: Array<() => Promise<FetchResponse>>): FakeCluster {
  return new FakeCluster({ brokers: [1] })
    .topic(TOPIC, [{ nodeId: 1, leaderEpoch: 2 }], TOPIC_ID)
    .script('Fetch', ...script)
    .otherwise('Fetch', () => new Promise((resolve) => setTimeout(() => resolve(response({})), 20)))
}

// The fetcher prefetches: its position runs ahead of what was taken by up to a buffer. On a
// diverging epoch the leader's end offset is compared with the consumer's position (the next
// record to return, as the Java client does), not the fetch position: buffered records below
// the end offset are valid (the leader still has them) and are handed over (records 3-5 below).
// Dropping them would skip them without a trace, and the runtime, told the position moved to 6,
// would commit past them.
test('a truncation above records still buffered hands those records over', async () => {
  let tookSome!: () => void
  const took = new Promise<void>((r) => (tookSome = r))
  let answeredDivergence!: () => void
  const divergenceHandled = new Promise<void>((r) => (answeredDivergence = r))
  const fake = scriptedCluster([
    // Records 0-9, leader epoch 1.
    async () => response({ records: [batch(0, 10, 1)] }),
    // An unclean election: the new leader's log of epoch 1 ends at 6; 6-9 were replaced.
    async () => {
      await took
      return response({ divergingEpoch: { epoch: 1, endOffset: 6n }, records: null })
    },
    // The new leader's records from 6 on (epoch 2). Asked for once the divergence was handled.
    async () => {
      answeredDivergence()
      return response({ records: [batch(6, 2, 2)] })
    },
  ])
  const fetcher = new Fetcher(fake.cluster, {
    fetch: { maxWaitMs: 10, minBytes: 1, maxBytes: 1 << 20, maxPartitionBytes: 1 << 20 },
    buffer: {
      maxRecordsPerPartition: 1000,
      maxBytesPerPartition: 1 << 20,
      maxRecords: 1000,
      maxBytes: 1 << 20,
    },
    isolationLevel: 'read_uncommitted',
    autoOffsetReset: 'earliest',
  })
  const resets: PositionReset[] = []
  fetcher.on('position_reset', (r) => resets.push(r))
  const handed: ConsumerRecord[] = []
  try {
    await fetcher.add([{ topic: TOPIC, partition: 0, position: 0 }])
    await waitUntil(() => fetcher.bufferedRecords === 10, {
      timeoutMs: 5000,
      message: 'records 0-9 buffered',
    })
    // The taker has taken 0-2 so far; 3-9 wait in the buffer.
    for (const b of fetcher.takeRecords(3)) handed.push(...b.records)
    tookSome()
    await divergenceHandled
    await waitUntil(
      () => {
        for (const b of fetcher.takeRecords(100)) handed.push(...b.records)
        return handed.some((r) => r.leaderEpoch === 2 && r.offset === 7)
      },
      { timeoutMs: 5000, message: 'the new leader records taken' },
    )
  } finally {
    await fetcher.close()
  }
  const offsets = handed.map((r) => r.offset)
  assert.deepEqual(
    offsets.filter((o) => o < 6),
    [0, 1, 2, 3, 4, 5],
    `records below the diverging end offset handed over (handed ${JSON.stringify(offsets)}, resets ${JSON.stringify(resets)})`,
  )
})
