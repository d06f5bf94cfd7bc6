// Share-group administration, as a library and as `multilane share describe|configure`:
// results, exit codes (0 ok, 1 failure, 2 usage) and errors that name the flag or setting.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { configureShareGroup, describeShareGroup, ShareAdminError } from '../../../src/admin/share.ts'
import { GroupConfigError } from '../../../src/kafka/group-configs.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  createShareMember,
  kafkaOptions,
  ShareWorker,
  shareGroup,
  waitForAssignment,
} from '../../support/share.ts'

const bin = join(import.meta.dirname, '../../../bin/multilane.js')

function multilane(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/**
 * The same without blocking this process: while a member of this process is in the group, its
 * heartbeats must go on (a CLI start on a loaded machine can outlast the session timeout).
 */
function multilaneAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
}

describe('share admin (library)', () => {
  it('configure sets group configs on a group that does not exist yet; describe reads them back', async () => {
    const groupId = uniqueName('share-admin-cfg')
    const set = await configureShareGroup(kafkaOptions(), groupId, {
      autoOffsetReset: 'earliest',
      recordLockDurationMs: 15_000,
      deliveryCountLimit: 3,
    })
    assert.deepEqual(set, {
      'share.auto.offset.reset': 'earliest',
      'share.record.lock.duration.ms': '15000',
      'share.delivery.count.limit': '3',
    })
    const topic = await createTopic('share-admin-cfg', 1)
    const { consumer } = createShareMember({ groupId, topics: [topic] })
    await consumer.start()
    const d = await describeShareGroup(kafkaOptions(), groupId)
    assert.equal(d.configs['share.auto.offset.reset'], 'earliest')
    assert.equal(d.configs['share.record.lock.duration.ms'], '15000')
    assert.equal(d.configs['share.delivery.count.limit'], '3')
    await consumer.close()
  })

  it('bad settings fail before anything is sent, naming the field; the broker refusal is quoted', async () => {
    await assert.rejects(
      configureShareGroup(kafkaOptions(), 'g', { autoOffsetReset: 'beginning' }),
      (e: unknown) =>
        e instanceof ShareAdminError &&
        e.code === 'INVALID_SETTING' &&
        /autoOffsetReset must be/.test(e.message),
    )
    await assert.rejects(
      configureShareGroup(kafkaOptions(), 'g', { recordLockDurationMs: -5 }),
      /recordLockDurationMs must be a positive integer/,
    )
    await assert.rejects(configureShareGroup(kafkaOptions(), 'g', {}), /nothing to configure/)
    await assert.rejects(
      configureShareGroup(kafkaOptions(), uniqueName('share-admin-bad'), { recordLockDurationMs: 5 }),
      (e: unknown) =>
        e instanceof GroupConfigError &&
        e.code === 'GROUP_CONFIG_FAILED' &&
        e.kafkaError === 'INVALID_CONFIG' &&
        /share\.record\.lock\.duration\.ms.*at least 1000/.test(e.message),
    )
  })

  it('describe: members, assignment, start offsets, end offsets and lag; GROUP_NOT_FOUND for an unknown group', async () => {
    const topic = await createTopic('share-admin-describe', 2)
    const groupId = await shareGroup('share-admin-describe')
    const members = [0, 1].map(() =>
      createShareMember({ groupId, topics: [topic], ...kafkaOptions('admin-describe') }),
    )
    await Promise.all(members.map((m) => m.consumer.start()))
    await waitForAssignment(
      members.map((m) => m.consumer),
      topic,
      2,
    )
    const workers = members.map((m) => new ShareWorker(m.consumer))
    await produceRecords(topic, 40, { partitions: 2 })
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), groupId)
        return d.partitions.length === 2 && d.partitions.every((p) => p.endOffset === 20 && p.lag === 0)
      },
      { message: 'both partitions consumed' },
    )
    const d = await describeShareGroup(kafkaOptions(), groupId)
    assert.equal(d.groupId, groupId)
    assert.equal(d.state, 'Stable')
    assert.deepEqual(d.members.map((m) => m.memberId).sort(), members.map((m) => m.consumer.memberId).sort())
    for (const m of members) {
      const described = d.members.find((x) => x.memberId === m.consumer.memberId)!
      assert.equal(described.clientId, 'admin-describe')
      assert.deepEqual(described.subscribedTopics, [topic])
      assert.deepEqual(
        described.assignment,
        m.consumer.assignment().sort((a, b) => a.partition - b.partition),
      )
    }
    assert.deepEqual(
      d.partitions.map((p) => [p.topic, p.partition, p.endOffset, p.lag]),
      [
        [topic, 0, 20, 0],
        [topic, 1, 20, 0],
      ],
    )
    assert.ok(d.partitions.every((p) => p.startOffset !== null && p.startOffset <= 20))
    await Promise.all(workers.map((w) => w.stop()))

    await assert.rejects(
      describeShareGroup(kafkaOptions(), uniqueName('no-such-share-group')),
      (e: unknown) => e instanceof ShareAdminError && e.code === 'GROUP_NOT_FOUND',
    )
  })
})

describe('multilane share (CLI)', () => {
  it('configure then describe, as text and --json; exit codes 0, 1, 2', async () => {
    const bootstrap = ['--bootstrap', bootstrapServers().join(',')]
    const topic = await createTopic('share-cli', 1)
    const groupId = uniqueName('share-cli')
    const configured = multilane([
      'share',
      'configure',
      groupId,
      '--auto-offset-reset',
      'earliest',
      '--lock-duration-ms',
      '20000',
      '--delivery-count-limit',
      '4',
      ...bootstrap,
    ])
    assert.equal(configured.code, 0, configured.stderr)
    assert.match(configured.stdout, /share\.auto\.offset\.reset=earliest/)
    assert.match(configured.stdout, /share\.record\.lock\.duration\.ms=20000/)
    assert.match(configured.stdout, /share\.delivery\.count\.limit=4/)

    const { consumer } = createShareMember({ groupId, topics: [topic] })
    await consumer.start()
    await waitForAssignment([consumer], topic, 1)
    const worker = new ShareWorker(consumer)
    await produceRecords(topic, 10, { partitions: 1 })
    await waitUntil(() => worker.applied('accept').length === 10)
    await waitUntil(async () => (await describeShareGroup(kafkaOptions(), groupId)).partitions[0]?.lag === 0)

    const text = await multilaneAsync(['share', 'describe', groupId, ...bootstrap])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`share group ${groupId}: Stable, 1 member`))
    assert.match(
      text.stdout,
      new RegExp(`${consumer.memberId}\\s+multilane-share-test\\s+\\S+\\s+\\d+\\s+${topic}:0`),
    )
    assert.match(text.stdout, new RegExp(`${topic}\\s+0\\s+\\d+\\s+10\\s+0`))
    assert.match(text.stdout, /share\.record\.lock\.duration\.ms=20000/)

    const json = await multilaneAsync(['share', 'describe', groupId, '--json', ...bootstrap])
    assert.equal(json.code, 0, json.stderr)
    const parsed = JSON.parse(json.stdout) as {
      members: Array<{ memberId: string }>
      partitions: Array<{ lag: number }>
    }
    assert.deepEqual(
      parsed.members.map((m) => m.memberId),
      [consumer.memberId],
    )
    assert.equal(parsed.partitions[0]?.lag, 0)
    await worker.stop()

    const unknown = multilane(['share', 'describe', uniqueName('no-such-group'), ...bootstrap])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /\[GROUP_NOT_FOUND\].*GROUP_ID_NOT_FOUND/)
    const refused = multilane(['share', 'configure', groupId, '--lock-duration-ms', '10', ...bootstrap])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /\[GROUP_CONFIG_FAILED\].*INVALID_CONFIG.*at least 1000/)
  })

  it('usage errors exit 2 and name the flag', () => {
    const nothing = multilane(['share', 'configure', 'g'])
    assert.equal(nothing.code, 2)
    assert.match(nothing.stderr, /nothing to configure/)
    const reset = multilane(['share', 'configure', 'g', '--auto-offset-reset', 'beginning'])
    assert.equal(reset.code, 2)
    assert.match(reset.stderr, /--auto-offset-reset.*earliest, latest or by_duration/)
    const lock = multilane(['share', 'configure', 'g', '--lock-duration-ms', '1.5'])
    assert.equal(lock.code, 2)
    assert.match(lock.stderr, /--lock-duration-ms.*positive integer/)
    const bootstrap = multilane(['share', 'describe', 'g', '--bootstrap', 'nohostport'])
    assert.equal(bootstrap.code, 2)
    assert.match(bootstrap.stderr, /--bootstrap.*not host:port/)
    const missing = multilane(['share', 'describe'])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /missing required argument 'group'/)
    assert.match(multilane(['share', '--help']).stdout, /describe[\s\S]*configure/)
  })
})
