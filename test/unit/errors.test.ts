import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigurationError } from '../../src/app/configuration-error.ts'
import { DevKafkaError } from '../../src/devkafka/errors.ts'
import { EngineError } from '../../src/engine/errors.ts'
import { MultilaneError } from '../../src/errors.ts'
import { MetricsOptionsError } from '../../src/instrumentation/prometheus.ts'
import { ClusterError } from '../../src/kafka/cluster.ts'
import { CommitMetadataError } from '../../src/processing/commit-metadata.ts'
import { DeserializationError } from '../../src/processing/deserializers.ts'
import { OffsetMapDecodeError, OffsetMapEncodeError } from '../../src/processing/offset-map-codec.ts'
import { OffsetTrackerError } from '../../src/processing/offset-tracker.ts'
import { RetryBackoffError } from '../../src/processing/retry-backoff.ts'

test('every error multilane throws is a MultilaneError with its class name and a code', () => {
  const cause = new Error('root')
  const errors: Array<[MultilaneError, string, string]> = [
    [new ConfigurationError([{ path: 'x', message: 'y' }]), 'ConfigurationError', 'INVALID_CONFIGURATION'],
    [new DevKafkaError('PORT_IN_USE', 'm'), 'DevKafkaError', 'PORT_IN_USE'],
    [new EngineError('COMMIT_FAILED', 'm', { cause }), 'EngineError', 'COMMIT_FAILED'],
    [new ClusterError('AUTHENTICATION_FAILED', 'm'), 'ClusterError', 'AUTHENTICATION_FAILED'],
    [new MetricsOptionsError('prefix', 'm'), 'MetricsOptionsError', 'INVALID_METRICS_OPTIONS'],
    [new CommitMetadataError('m'), 'CommitMetadataError', 'COMMIT_METADATA'],
    [new DeserializationError('m'), 'DeserializationError', 'DESERIALIZATION_FAILED'],
    [new OffsetMapDecodeError('m'), 'OffsetMapDecodeError', 'OFFSET_MAP_DECODE'],
    [new OffsetMapEncodeError('m'), 'OffsetMapEncodeError', 'OFFSET_MAP_ENCODE'],
    [new OffsetTrackerError('OFFSET_TRACKER_ORDER', 'm'), 'OffsetTrackerError', 'OFFSET_TRACKER_ORDER'],
    [new RetryBackoffError('m'), 'RetryBackoffError', 'RETRY_BACKOFF'],
  ]
  for (const [error, name, code] of errors) {
    assert.ok(error instanceof MultilaneError, `${name} extends MultilaneError`)
    assert.ok(error instanceof Error)
    assert.equal(error.name, name)
    assert.equal(error.code, code)
  }
  assert.equal(errors[2]![0].cause, cause, 'causes are kept')
})
