// API version negotiation against the real broker: ApiVersions once per node id, the highest
// common version chosen, and a typed error naming both sides when there is none.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  API_KEYS,
  CONSUMER_GROUP_PINNED_VERSIONS,
  IMPLEMENTED_VERSIONS,
  UnsupportedApiVersionError,
} from '../../../src/kafka/api-versions.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { kafkaOptions } from '../../support/share.ts'

describe('API version negotiation (real broker)', () => {
  it('asks each broker once, picks the highest common version, and names both sides when there is none', async () => {
    const cluster = new KafkaCluster(resolveConnection(kafkaOptions('multilane-api-versions')))
    try {
      await cluster.refreshMetadata(null)
      const nodeId = cluster.knownBrokers()[0]!
      const first = cluster.apiVersions(nodeId)
      assert.equal(cluster.apiVersions(nodeId), first, 'cached per node id')
      const offered = await first
      const fetch = offered.get(API_KEYS.ShareFetch)
      assert.ok(fetch && fetch.max >= 1, 'the broker offers ShareFetch')

      // Kafka 4.2+ offers ShareFetch/ShareAcknowledge v2 (RENEW, acquire modes); 4.1 only v1.
      const shareFetch = await cluster.selectVersion(nodeId, 'ShareFetch', IMPLEMENTED_VERSIONS.ShareFetch)
      assert.equal(shareFetch, Math.min(2, fetch.max))
      assert.equal(
        await cluster.selectVersion(nodeId, 'ShareGroupHeartbeat', IMPLEMENTED_VERSIONS.ShareGroupHeartbeat),
        1,
      )
      assert.deepEqual(await cluster.requireVersions(nodeId, CONSUMER_GROUP_PINNED_VERSIONS), {
        Fetch: 17,
        OffsetCommit: 9,
        OffsetFetch: 9,
        ListOffsets: 9,
        Metadata: 12,
        FindCoordinator: 6,
        ConsumerGroupHeartbeat: 1,
      })

      const beyond = fetch.max + 1
      await assert.rejects(cluster.selectVersion(nodeId, 'ShareFetch', [beyond]), (error: unknown) => {
        assert.ok(error instanceof UnsupportedApiVersionError)
        assert.equal(error.code, 'UNSUPPORTED_API_VERSION')
        assert.equal(error.nodeId, nodeId)
        assert.deepEqual(error.offered, fetch)
        assert.match(
          error.message,
          new RegExp(
            `broker ${nodeId} supports no version of ShareFetch \\(key 78\\) that multilane implements: multilane implements v${beyond}, broker ${nodeId} offers v${fetch.min}–v${fetch.max}`,
          ),
        )
        return true
      })
    } finally {
      await cluster.close()
    }
  })
})
