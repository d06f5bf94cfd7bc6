// The broker the tests run on: when the run owns it (npm test's global setup, or
// test/run-with-broker.ts for a second Kafka version), it is of the expected version, recorded
// in the run's own directory, with the development settings fast share-group tests need. Share
// groups work on any cluster the tests use.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { probeBroker, shareGroupsUnavailableReason } from '../../src/devkafka/broker-probe.ts'
import { kafkaVersion, shareVersionFor } from '../../src/devkafka/kafka-version.ts'
import { parseBootstrap } from '../../src/kafka/bootstrap.ts'
import { bootstrapServers } from '../support/kafka.ts'
import { SUITE_BROKER_DIR_ENV } from '../support/private-broker.ts'

const ownDir = process.env[SUITE_BROKER_DIR_ENV]
const address = parseBootstrap(bootstrapServers())[0]!

test('share groups work on the cluster under test; a run-owned broker has the expected version and share.version', async () => {
  const facts = await probeBroker(address)
  assert.equal(await shareGroupsUnavailableReason(address, facts), undefined)
  if (ownDir === undefined) return // an external cluster (KAFKA_BOOTSTRAP_SERVERS): nothing more is promised
  const state = JSON.parse(readFileSync(join(ownDir, 'state.json'), 'utf8')) as {
    bootstrap: string
    version: string
    phase: string
    features: Record<string, number>
  }
  assert.equal(state.bootstrap, bootstrapServers().join(','), 'the tests use the broker the run started')
  assert.equal(state.phase, 'running')
  if (!process.env.KAFKA_HOME) assert.equal(state.version, kafkaVersion())
  assert.equal(facts.features['share.version'], shareVersionFor(state.version) ?? 1)
  assert.deepEqual(state.features, facts.features)
})

test('a run-owned broker has the development settings: no assignment batching, short share locks allowed', async () => {
  if (ownDir === undefined) return
  const admin = new Admin({ clientId: 'multilane-test', bootstrapBrokers: bootstrapServers() })
  try {
    const [broker] = await admin.describeConfigs({
      resources: [
        {
          resourceType: 4, // BROKER
          resourceName: '1',
          configurationKeys: [
            'group.consumer.assignment.interval.ms',
            'group.share.assignment.interval.ms',
            'group.share.min.record.lock.duration.ms',
            'group.share.heartbeat.interval.ms',
            'auto.create.topics.enable',
          ],
        },
      ],
    })
    const configs = Object.fromEntries(broker!.configs.map((c) => [c.name, c.value]))
    assert.deepEqual(configs, {
      'group.consumer.assignment.interval.ms': '0',
      'group.share.assignment.interval.ms': '0',
      'group.share.min.record.lock.duration.ms': '1000',
      'group.share.heartbeat.interval.ms': '1000',
      'auto.create.topics.enable': 'false',
    })
  } finally {
    await admin.close()
  }
})
