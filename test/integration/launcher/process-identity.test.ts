// "Is this our broker?": a process is a directory's broker only when its command line names that
// directory's own properties file, and it has exited only when no thread of it is left (so
// `kafka stop` never reports "stopped" while the broker still runs).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { findKafkaNodesOf, isKafkaNodeOf, processExited } from '../../../src/devkafka/process-identity.ts'
import { standIn } from '../../support/launcher.ts'

test('a broker is recognised by its own properties file only', async () => {
  const dir = `/tmp/multilane-identity-${process.pid}`
  const ours = standIn(['kafka.Kafka', `${dir}/server.properties`])
  const other = standIn(['kafka.Kafka', `/other${dir}/server.properties`])
  const added = standIn(['kafka.Kafka', `${dir}/nodes/node-2/server.properties`])
  const noKafka = standIn([`${dir}/server.properties`])
  try {
    await sleep(200)
    assert.equal(isKafkaNodeOf(ours.pid!, `${dir}/server.properties`), true)
    assert.equal(isKafkaNodeOf(other.pid!, `${dir}/server.properties`), false, "another directory's broker")
    assert.equal(isKafkaNodeOf(added.pid!, `${dir}/server.properties`), false, 'a broker added to this one')
    assert.equal(isKafkaNodeOf(noKafka.pid!, `${dir}/server.properties`), false, 'not kafka.Kafka')
    assert.equal(isKafkaNodeOf(process.pid, `${dir}/server.properties`), false, 'an unrelated (reused) pid')
    assert.deepEqual(findKafkaNodesOf(`${dir}/server.properties`), [ours.pid])
  } finally {
    for (const p of [ours, other, added, noKafka]) p.kill('SIGKILL')
  }
})

test('a process whose main thread exited while another thread runs has not exited', async () => {
  // The JVM shows this on shutdown: its main thread turns zombie (empty command line) while
  // other threads still hold its ports and files. Python's main thread can do the same.
  const child = spawn(
    'python3',
    [
      '-c',
      'import ctypes, threading, time, sys\n' +
        't = threading.Thread(target=time.sleep, args=(2,))\nt.start()\n' +
        'print("ready", flush=True)\nctypes.CDLL(None).pthread_exit(None)\n',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const pid = child.pid!
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()))
  const leaderZombie = async (): Promise<boolean> => {
    for (let i = 0; i < 100; i++) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      if (/^State:\s+Z/m.test(status) && !/^Threads:\s+1$/m.test(status)) return true
      await sleep(10)
    }
    return false
  }
  assert.ok(await leaderZombie(), 'the main thread is a zombie while a thread still runs')
  assert.equal(processExited(pid), false)
  await new Promise((r) => child.once('exit', r))
  assert.equal(processExited(pid), true)
})
