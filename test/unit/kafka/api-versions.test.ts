import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { MultilaneError } from '../../../src/errors.ts'
import {
  API_KEYS,
  brokerApiVersions,
  CONSUMER_GROUP_PINNED_VERSIONS,
  IMPLEMENTED_VERSIONS,
  selectVersion,
  selectVersions,
  UnsupportedApiVersionError,
} from '../../../src/kafka/api-versions.ts'

const broker = (entries: Array<[number, number, number]>) =>
  brokerApiVersions(entries.map(([apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })))

describe('API version selection', () => {
  it('picks the highest version both sides support', () => {
    const offers = broker([[API_KEYS.ShareFetch, 1, 2]])
    assert.equal(selectVersion('ShareFetch', [1, 2], offers), 2)
    assert.equal(
      selectVersion('ShareFetch', [2, 1], offers),
      2,
      'order of the implemented list does not matter',
    )
    assert.equal(
      selectVersion('ShareFetch', [1, 2], broker([[API_KEYS.ShareFetch, 1, 1]])),
      1,
      'a 4.1 broker gets v1',
    )
    assert.equal(selectVersion('ShareFetch', [1, 2, 3], offers), 2, 'versions above the broker are skipped')
    assert.equal(selectVersion('ShareFetch', [0, 1, 2], broker([[API_KEYS.ShareFetch, 1, 5]])), 2)
  })

  it('fails with a typed error naming the API, what multilane implements and what the broker offers', () => {
    const offers = broker([[API_KEYS.ShareFetch, 0, 0]])
    assert.throws(
      () => selectVersion('ShareFetch', [1, 2], offers, 3),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedApiVersionError)
        assert.ok(error instanceof MultilaneError)
        assert.equal(error.code, 'UNSUPPORTED_API_VERSION')
        assert.equal(error.name, 'UnsupportedApiVersionError')
        assert.equal(error.api, 'ShareFetch')
        assert.equal(error.apiKey, 78)
        assert.deepEqual(error.implemented, [1, 2])
        assert.deepEqual(error.offered, { min: 0, max: 0 })
        assert.equal(error.nodeId, 3)
        assert.match(error.message, /broker 3 supports no version of ShareFetch \(key 78\)/)
        assert.match(error.message, /multilane implements v1, v2, broker 3 offers v0/)
        assert.match(error.message, /share groups need Apache Kafka ≥ 4\.1/)
        return true
      },
    )
  })

  it('says so when the broker does not offer the API at all', () => {
    assert.throws(
      () => selectVersion('Fetch', [17], broker([[API_KEYS.Metadata, 0, 12]])),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedApiVersionError)
        assert.equal(error.offered, null)
        assert.match(error.message, /the broker supports no version of Fetch \(key 1\)/)
        assert.match(error.message, /multilane implements v17, the broker does not offer it at all/)
        assert.doesNotMatch(error.message, /share groups/)
        return true
      },
    )
  })

  it('checks several APIs at once (the consumer-group engine pins one version each)', () => {
    const offers = broker([
      [API_KEYS.Fetch, 0, 17],
      [API_KEYS.OffsetCommit, 0, 9],
      [API_KEYS.OffsetFetch, 0, 9],
      [API_KEYS.ListOffsets, 0, 10],
      [API_KEYS.Metadata, 0, 13],
      [API_KEYS.FindCoordinator, 0, 6],
      [API_KEYS.ConsumerGroupHeartbeat, 0, 1],
    ])
    assert.deepEqual(selectVersions(CONSUMER_GROUP_PINNED_VERSIONS, offers), {
      Fetch: 17,
      OffsetCommit: 9,
      OffsetFetch: 9,
      ListOffsets: 9,
      Metadata: 12,
      FindCoordinator: 6,
      ConsumerGroupHeartbeat: 1,
    })
    const old = new Map(offers)
    old.set(API_KEYS.Fetch, { min: 0, max: 16 })
    assert.throws(() => selectVersions(CONSUMER_GROUP_PINNED_VERSIONS, old), /Fetch \(key 1\)/)
  })

  it('implements the share APIs of Kafka 4.1-4.4', () => {
    assert.deepEqual(IMPLEMENTED_VERSIONS.ShareFetch, [1, 2])
    assert.deepEqual(IMPLEMENTED_VERSIONS.ShareAcknowledge, [1, 2])
    assert.deepEqual(IMPLEMENTED_VERSIONS.ShareGroupHeartbeat, [1])
    assert.deepEqual(IMPLEMENTED_VERSIONS.ShareGroupDescribe, [1])
  })

  it('returns a common version exactly when one exists (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        (implemented, a, b) => {
          const [min, max] = a <= b ? [a, b] : [b, a]
          const common = implemented.filter((v) => v >= min && v <= max)
          const offers = broker([[API_KEYS.ShareAcknowledge, min, max]])
          if (common.length === 0) {
            assert.throws(
              () => selectVersion('ShareAcknowledge', implemented, offers),
              UnsupportedApiVersionError,
            )
          } else {
            assert.equal(selectVersion('ShareAcknowledge', implemented, offers), Math.max(...common))
          }
        },
      ),
    )
  })
})
