// Waiting for a starting broker decides from what the node answers. A node that has logged
// "Kafka Server started" in this start's part of the log and answers that share groups are not
// available fails the start at once (SHARE_GROUPS_UNAVAILABLE, the node killed). Without this
// start's part of the log — waiting for the broker of an interrupted `kafka start` — a node may
// answer before it has finished starting, without the share-group APIs yet: that answer is
// final only at the deadline, and a node that offers them later is ready.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { awaitBrokerReady, type ReadyProbes } from '../../../src/devkafka/broker-ready.ts'

const NOT_OFFERED = 'the broker does not offer ShareGroupHeartbeat v1'
let dir: string
let logFile: string

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'multilane-broker-ready-'))
  logFile = join(dir, 'server.log')
  writeFileSync(logFile, '[KafkaRaftServer nodeId=1] Kafka Server started\n')
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** A stand-in for the broker's JVM: the wait kills it when it gives up. */
function standIn(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' })
  assert.ok(child.pid)
  return child as ChildProcess & { pid: number }
}

/** Probes of a node whose share-group answer is `answers[i]` on the i-th ask (the last one after). */
function probes(answers: Array<string | undefined>): ReadyProbes & { asked: () => number } {
  let asked = 0
  return {
    broker: async () => ({ features: { 'share.version': 1 }, apiMaxVersions: new Map() }),
    shareGroups: async () => answers[Math.min(asked++, answers.length - 1)],
    groupCoordinator: async () => undefined,
    listening: async () => true,
    asked: () => asked,
  }
}

test('waiting for an interrupted start: a node that does not offer share groups yet is asked again, and is ready once it does', async () => {
  const child = standIn()
  try {
    const p = probes([NOT_OFFERED, NOT_OFFERED, undefined])
    const features = await awaitBrokerReady({
      pid: child.pid,
      port: 1,
      otherPorts: [],
      logFile,
      timeoutMs: 60_000,
      version: '4.4.0',
      exited: () => undefined,
      probes: p,
    })
    assert.deepEqual(features, { 'share.version': 1 })
    assert.equal(p.asked(), 3)
    assert.equal(child.exitCode, null, 'the broker was not killed')
  } finally {
    child.kill('SIGKILL')
  }
})

test('waiting for an interrupted start: a node that never offers share groups fails at the deadline, naming why, and is killed', async () => {
  const child = standIn()
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await assert.rejects(
    awaitBrokerReady({
      pid: child.pid,
      port: 1,
      otherPorts: [],
      logFile,
      timeoutMs: 1_500,
      version: '4.4.0',
      exited: () => undefined,
      probes: probes([NOT_OFFERED]),
    }),
    (error: Error & { code?: string }) =>
      error.code === 'SHARE_GROUPS_UNAVAILABLE' && error.message.includes(NOT_OFFERED),
  )
  await exited
})

test('a fresh start whose node has started and does not offer share groups fails at once and is killed', async () => {
  const child = standIn()
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const p = probes([NOT_OFFERED, undefined])
  await assert.rejects(
    awaitBrokerReady({
      pid: child.pid,
      port: 1,
      otherPorts: [],
      logFile,
      logOffset: 0,
      timeoutMs: 60_000,
      version: '4.4.0',
      exited: () => undefined,
      probes: p,
    }),
    (error: Error & { code?: string }) =>
      error.code === 'SHARE_GROUPS_UNAVAILABLE' && error.message.includes(NOT_OFFERED),
  )
  assert.equal(p.asked(), 1)
  await exited
})
