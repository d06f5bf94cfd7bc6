// A starting node is ready only when its own log says it serves: another broker that holds the
// port it was given (taken between the free-port check and the bind, as when several starts run
// at once) answers ApiVersions and joins share groups just as well, and the start would hand out
// that broker's address while its own node exits on the failed bind.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { awaitBrokerReady } from '../../../src/devkafka/broker-ready.ts'
import { DevKafkaError } from '../../../src/devkafka/errors.ts'
import { kafkaVersion } from '../../../src/devkafka/kafka-version.ts'
import { bootstrapServers } from '../../support/kafka.ts'

/** A stand-in for the starting node's process (killed by a start that gives up on it). */
function standIn(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' })
  child.unref()
  return child.pid as number
}

test("another broker answering at the node's port is not taken for the node", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-ready-'))
  const logFile = join(dir, 'broker.log')
  writeFileSync(logFile, '[…] INFO earlier start: Kafka Server started (kafka.server.KafkaRaftServer)\n')
  const logOffset = statSync(logFile).size // this start's part begins after the earlier start's
  const [host = '', port = ''] = (bootstrapServers()[0] ?? '').split(':')
  assert.equal(host, '127.0.0.1', 'the suite broker is local')
  const wait = {
    port: Number(port),
    otherPorts: [],
    logFile,
    version: kafkaVersion(),
    exited: () => undefined,
  }
  try {
    // The suite's broker answers at the port, but this start's log never says it started.
    await assert.rejects(
      awaitBrokerReady({ ...wait, pid: standIn(), logOffset, timeoutMs: 4000 }),
      (e: unknown) => e instanceof DevKafkaError && e.code === 'BROKER_START_TIMEOUT',
    )
    // Once it does, the same probes make it ready.
    appendFileSync(
      logFile,
      '[…] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)\n',
    )
    const pid = standIn()
    try {
      const features = await awaitBrokerReady({ ...wait, pid, logOffset, timeoutMs: 60_000 })
      assert.ok(Object.keys(features).length > 0)
    } finally {
      process.kill(pid, 'SIGKILL')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
