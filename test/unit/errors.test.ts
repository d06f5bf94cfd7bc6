// Every error multilane throws is a MultilaneError with its class name and a code from the one
// catalogue (src/error-codes.ts), and every error class is exported from the package.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigurationError } from '../../src/app/configuration-error.ts'
import { DevKafkaError } from '../../src/devkafka/errors.ts'
import { EngineError } from '../../src/engine/errors.ts'
import { MultilaneError } from '../../src/errors.ts'
import { MetricsOptionsError } from '../../src/instrumentation/prometheus.ts'
import { ClusterError } from '../../src/kafka/cluster.ts'
import { CommitMetadataError } from '../../src/processing/consumer-group/commit-metadata.ts'
import {
  OffsetMapDecodeError,
  OffsetMapEncodeError,
} from '../../src/processing/consumer-group/offset-map-codec.ts'
import { OffsetTrackerError } from '../../src/processing/consumer-group/offset-tracker.ts'
import { DeserializationError } from '../../src/processing/deserializers.ts'
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

test('every error class is exported, and every code it can carry is in the one catalogue', async () => {
  const api = await import('../../src/index.ts')
  const samples: MultilaneError[] = [
    new api.ConfigurationError([{ path: 'x', message: 'y' }]),
    new api.DevKafkaError('LOCKED', 'm'),
    new api.EngineError('ASSIGNMENT_REFUSED', 'm'),
    new api.ShareError('LOCK_LOST', 'm'),
    new api.MalformedResponseError('Fetch', 17, 'truncated'),
    new api.UnsupportedApiVersionError('Fetch', 1, [17], null),
    new api.ClusterError('NO_BROKER_REACHABLE', 'm'),
    new api.GroupConfigError('m'),
    new api.UnsupportedNodeError('UNSUPPORTED_NODE', 'm'),
    new api.CommitMetadataError('m'),
    new api.OffsetMapDecodeError('m'),
    new api.OffsetMapEncodeError('m'),
    new api.OffsetTrackerError('OFFSET_TRACKER_ORDER', 'm'),
    new api.RetryBackoffError('m'),
    new api.ShareAdminError('INVALID_SETTING', 'm'),
    new api.CliError('TOPIC_EXISTS', 'm'),
    new api.CliError('APP_MODULE_INVALID', 'm'),
    new api.SegmentOffsetsError('OFFSETS_WRITE_FAILED', 'm'),
    new api.ConsumerGroupNotFoundError('CONSUMER_GROUP_NOT_FOUND', 'm'),
    new api.DeserializationError('m'),
    new api.MetricsOptionsError('prefix', 'm'),
    new api.ProducerError('PRODUCE_TOPIC_NOT_FOUND', 'm'),
    new api.ProducerError('INVALID_PRODUCE_RECORD', 'm'),
    new api.GroupAdminError('GROUP_NOT_FOUND', 'm'),
    new api.BenchError('INVALID_WORKLOAD', 'm'),
    new api.AuthorizationError({
      kafkaError: 'TOPIC_AUTHORIZATION_FAILED',
      action: 'a',
      needs: 'n',
      principal: undefined,
    }),
    new api.EngineError('AUTHORIZATION_FAILED', 'm'),
    new api.ShareError('AUTHORIZATION_FAILED', 'm'),
  ]
  for (const error of samples) {
    assert.ok(error instanceof api.MultilaneError, error.name)
    assert.equal(
      typeof api.ERROR_CODES[error.code],
      'string',
      `${error.name} ${error.code} is in ERROR_CODES`,
    )
  }
  // Every entry says what it means.
  for (const [code, meaning] of Object.entries(api.ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z_]+$/)
    assert.ok(meaning.length > 10, code)
  }
})
