// Fatal errors stop the app and end its process, on a real broker: after FENCED_INSTANCE_ID the
// runtime must not go on polling the closed consumer (a spin that starves the event loop).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import {
  bootstrapServers,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'

function staticMember(topic: string, group: string, instance: string) {
  const lines: string[] = []
  const child = spawnFixture(
    'static-member.ts',
    [bootstrapServers().join(','), topic, group, instance],
    (l) => lines.push(l),
  )
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, lines, exited }
}

test('a static member fenced by its successor (FENCED_INSTANCE_ID) stops and its process exits non-zero', async () => {
  const topic = await createTopic('fenced-instance', 1)
  await produceRecords(topic, 10, { partitions: 1 })
  const group = uniqueName('fenced-instance')
  const first = staticMember(topic, group, 'instance-1')
  let second: ReturnType<typeof staticMember> | undefined
  try {
    await waitUntil(() => first.lines.includes('A'), {
      timeoutMs: 60_000,
      message: 'the first member got the partition',
    })
    second = staticMember(topic, group, 'instance-1')
    const standby = second
    // The second one waits as a standby (UNRELEASED_INSTANCE_ID) until the first goes quiet:
    // paused past the session timeout, it is replaced.
    first.child.kill('SIGSTOP')
    await waitUntil(() => standby.lines.includes('A'), {
      timeoutMs: 60_000,
      message: 'the standby took over after the paused member timed out',
    })
    first.child.kill('SIGCONT')
    const code = await within(first.exited, 30_000)
    assert.notEqual(
      code,
      'timed out',
      `the fenced member's process ended (its output: ${first.lines.join(' | ')})`,
    )
    assert.notEqual(code, 0)
    assert.ok(
      first.lines.some((l) => l.startsWith('F MEMBERSHIP_FATAL')),
      `a fatal error was reported: ${first.lines.join(' | ')}`,
    )
  } finally {
    first.child.kill('SIGCONT')
    first.child.kill('SIGKILL')
    if (second) {
      second.child.kill('SIGTERM')
      await within(second.exited, 30_000)
    }
  }
})

test('an onAssigned hook that refuses its partitions stops the consumer with a fatal error, without retrying', async () => {
  const topic = await createTopic('refused-assignment', 2)
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'refused',
    groupId: uniqueName('refused'),
    topics: [topic],
    hooks: {
      onAssigned: () => {
        calls++
        throw new Error('routing fingerprint mismatch')
      },
    },
  })
  let calls = 0
  const fatal: Array<Error & { code?: string }> = []
  consumer.on('fatal', (e) => fatal.push(e))
  try {
    await consumer.start()
    await waitUntil(() => fatal.length === 1, { message: 'the fatal event' })
    await waitUntil(() => consumer.closed, { message: 'the consumer closed itself' })
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal(calls, 1, 'the refused assignment was not retried')
    assert.equal(fatal[0]!.code, 'ASSIGNMENT_REFUSED')
    assert.match(fatal[0]!.message, /routing fingerprint mismatch/)
  } finally {
    await consumer.close()
  }
})
