// The `multilane` command as a user runs it: exit codes (0 ok, 1 failure, 2 usage), errors that
// name the flag or variable, and --json output. One test starts a two-broker cluster of its own
// (MULTILANE_BROKER_DIR in a temporary directory); `topics` tests use the suite's broker through
// --bootstrap; the others fail before any broker is needed.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { acquireDirLock } from '../../src/devkafka/dir-lock.ts'
import { bootstrapServers, uniqueName } from '../support/kafka.ts'
import { fullyExited, spawnMultilane } from '../support/launcher.ts'

const bin = join(import.meta.dirname, '../../bin/multilane.js')
const dir = mkdtempSync(join(tmpdir(), 'multilane-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Running processes whose command line mentions `path` (a zombie's is empty). */
function javaProcessesUsing(path: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', path], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

/** Runs `multilane` on this file's own broker directory, without KAFKA_BOOTSTRAP_SERVERS unless given. */
function multilane(args: string[], env: Record<string, string> = {}) {
  const { KAFKA_BOOTSTRAP_SERVERS: _, ...inherited } = process.env
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...inherited, MULTILANE_BROKER_DIR: join(dir, 'broker'), ...env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('--help exits 0 and lists the commands', () => {
  const r = multilane(['--help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /kafka/)
  assert.match(r.stdout, /topics/)
  assert.match(multilane(['kafka', '--help']).stdout, /start[\s\S]*stop[\s\S]*status/)
  assert.match(multilane(['kafka', '--help']).stdout, /MULTILANE_BROKER_DIR/)
  assert.match(multilane(['topics', '--help']).stdout, /create[\s\S]*list/)
})

test('usage errors exit 2 and name what is wrong', () => {
  const port = multilane(['kafka', 'start', '--port', 'abc'])
  assert.equal(port.code, 2)
  assert.match(port.stderr, /--port.*integer from 1 to 65535/)
  const unknown = multilane(['kafka', 'bogus'])
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /unknown command 'bogus'/)
  const flag = multilane(['kafka', 'status', '--verbose'])
  assert.equal(flag.code, 2)
  assert.match(flag.stderr, /unknown option '--verbose'/)
  const brokers = multilane(['kafka', 'start', '--brokers', '10'])
  assert.equal(brokers.code, 2)
  assert.match(brokers.stderr, /--brokers.*integer from 1 to 9/)
  const conflict = multilane(['kafka', 'start', '--brokers', '2', '--restart'])
  assert.equal(conflict.code, 2)
  assert.match(conflict.stderr, /--brokers cannot be combined with --restart/)
})

// Two JVMs start, and a third `kafka start` asks again: 274 s were seen at a load average of 20,
// near the default 5-minute test timeout, so this test has its own.
test('start --brokers 2: a two-broker cluster, listed by status; topics on it; stop ends every broker', {
  timeout: 15 * 60_000,
}, () => {
  const started = multilane(['kafka', 'start', '--brokers', '2', '--json'])
  try {
    assert.equal(started.code, 0, started.stderr)
    const state = JSON.parse(started.stdout) as {
      pid: number
      bootstrap: string
      addedBrokers: Array<{ nodeId: number; pid: number; bootstrap: string }>
    }
    assert.deepEqual(
      state.addedBrokers.map((b) => b.nodeId),
      [2],
    )
    const status = multilane(['kafka', 'status'])
    assert.equal(status.code, 0)
    assert.match(status.stdout, /bootstrap: 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/)
    assert.match(status.stdout, /broker 2: 127\.0\.0\.1:\d+ \(pid \d+\)/)
    // Asking again for two is idempotent; it never adds a third. A reuse says which broker and since when.
    const again = multilane(['kafka', 'start', '--brokers', '2', '--json'])
    assert.equal((JSON.parse(again.stdout) as { addedBrokers: unknown[] }).addedBrokers.length, 1)
    const reused = multilane(['kafka', 'start'])
    assert.match(
      reused.stdout,
      new RegExp(
        `already running in ${join(dir, 'broker')} \\(pid ${state.pid}, since \\S+ \\(.*\\)\\): reused`,
      ),
    )
    assert.match(
      reused.stdout,
      new RegExp(`bootstrap: ${state.bootstrap},${state.addedBrokers[0]!.bootstrap}`),
    )
    assert.match(reused.stdout, /export KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/)

    // topics against the local broker (no --bootstrap, no KAFKA_BOOTSTRAP_SERVERS)
    const created = multilane([
      'topics',
      'create',
      'replicated',
      '--partitions',
      '3',
      '--replication-factor',
      '2',
    ])
    assert.equal(created.code, 0, created.stderr)
    assert.match(
      created.stdout,
      /created topic replicated \(3 partitions, replication factor 2\) on 127\.0\.0\.1:\d+/,
    )
    const listed = multilane(['topics', 'list', '--json'])
    assert.deepEqual(JSON.parse(listed.stdout), [{ name: 'replicated', partitions: 3, replicationFactor: 2 }])

    const stopped = multilane(['kafka', 'stop'])
    assert.equal(stopped.code, 0)
    assert.match(stopped.stdout, /and 1 added broker/)
    assert.deepEqual(javaProcessesUsing(join(dir, 'broker')), [], 'no broker process is left')
    for (const pid of [state.pid, ...state.addedBrokers.map((b) => b.pid)]) {
      assert.ok(fullyExited(pid), `broker pid ${pid} has exited completely when stop returns`)
    }
  } finally {
    multilane(['kafka', 'stop'])
  }
})

test('status --json with no broker prints running:false and exits 1', () => {
  const r = multilane(['kafka', 'status', '--json'])
  assert.equal(r.code, 1)
  assert.deepEqual(JSON.parse(r.stdout), { running: false })
})

test('a bad MULTILANE_KAFKA_VERSION fails with its code and the rule, before anything starts', () => {
  const r = multilane(['kafka', 'start'], { MULTILANE_KAFKA_VERSION: '5.0' })
  assert.equal(r.code, 1)
  assert.match(
    r.stderr,
    /\[INVALID_KAFKA_VERSION\] MULTILANE_KAFKA_VERSION must be an Apache Kafka 4\.x release.*or 3\.9\.x/,
  )
})

test('topics create and list: created with its partitions, configs and leaders; errors name the cause', () => {
  const bootstrap = bootstrapServers().join(',')
  const name = uniqueName('cli-topic')
  const created = multilane([
    'topics',
    'create',
    name,
    '--partitions',
    '4',
    '--config',
    'retention.ms=3600000',
    '--config',
    'cleanup.policy=compact',
    '--bootstrap',
    bootstrap,
    '--json',
  ])
  assert.equal(created.code, 0, created.stderr)
  assert.deepEqual(JSON.parse(created.stdout), {
    name,
    partitions: 4,
    replicationFactor: 1,
    created: true,
    bootstrap,
  })

  const again = multilane(['topics', 'create', name, '--partitions', '4'], {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
  })
  assert.equal(again.code, 1)
  assert.match(
    again.stderr,
    new RegExp(`\\[TOPIC_EXISTS\\] Topic "${name}" already exists .*--if-not-exists`),
  )
  const accepted = multilane([
    'topics',
    'create',
    name,
    '--partitions',
    '4',
    '--if-not-exists',
    '--bootstrap',
    bootstrap,
  ])
  assert.equal(accepted.code, 0, accepted.stderr)
  assert.match(accepted.stdout, /exists already: topic/)

  const listed = multilane(['topics', 'list', '--json', '--bootstrap', bootstrap])
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual(
    (JSON.parse(listed.stdout) as Array<{ name: string }>).find((t) => t.name === name),
    { name, partitions: 4, replicationFactor: 1 },
  )
  const table = multilane(['topics', 'list', '--bootstrap', bootstrap])
  assert.match(table.stdout, new RegExp(`^TOPIC +PARTITIONS +REPLICATION\\n[\\s\\S]*^${name} +4 +1$`, 'm'))

  const badConfig = multilane([
    'topics',
    'create',
    uniqueName('cli-bad'),
    '--partitions',
    '1',
    '--config',
    'retention.ms=soon',
    '--bootstrap',
    bootstrap,
  ])
  assert.equal(badConfig.code, 1)
  assert.match(badConfig.stderr, /\[TOPIC_CREATE_FAILED\].*retention\.ms/)
  const tooMany = multilane([
    'topics',
    'create',
    uniqueName('cli-bad'),
    '--partitions',
    '1',
    '--replication-factor',
    '5',
    '--bootstrap',
    bootstrap,
  ])
  assert.equal(tooMany.code, 1)
  assert.match(tooMany.stderr, /\[TOPIC_CREATE_FAILED\].*replication factor of 5/)
})

test('topics: usage errors exit 2 naming the flag; no cluster or an unreachable one exits 1 naming the fix', () => {
  const usage: Array<[string[], RegExp]> = [
    [['topics', 'create', 'a'], /required option '--partitions <n>'/],
    [['topics', 'create', 'a', '--partitions', '0'], /--partitions.*integer ≥ 1/],
    [['topics', 'create', 'a', '--partitions', '2.5'], /--partitions.*integer ≥ 1/],
    [
      ['topics', 'create', 'a', '--partitions', '1', '--replication-factor', 'x'],
      /--replication-factor.*integer ≥ 1/,
    ],
    [['topics', 'create', 'a b', '--partitions', '1'], /name.*ASCII letters, digits/],
    [['topics', 'create', 'a', '--partitions', '1', '--config', 'retention.ms'], /--config.*not key=value/],
    [
      ['topics', 'create', 'a', '--partitions', '1', '--config', 'a=1', '--config', 'a=2'],
      /--config.*a is given twice/,
    ],
    [['topics', 'list', '--bootstrap', 'nohost'], /--bootstrap.*host:port/],
  ]
  for (const [args, message] of usage) {
    const r = multilane(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
  const none = multilane(['topics', 'list'])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /\[NO_BROKER\].*KAFKA_BOOTSTRAP_SERVERS.*multilane kafka start.*--bootstrap/)
  const badEnv = multilane(['topics', 'list'], { KAFKA_BOOTSTRAP_SERVERS: 'nohost' })
  assert.equal(badEnv.code, 1)
  assert.match(badEnv.stderr, /\[INVALID_BOOTSTRAP\] KAFKA_BOOTSTRAP_SERVERS/)
  const unreachable = multilane(['topics', 'list', '--bootstrap', '127.0.0.1:1'])
  assert.equal(unreachable.code, 1)
  assert.match(unreachable.stderr, /\[BROKER_UNREACHABLE\] Cannot reach 127\.0\.0\.1:1 \(from --bootstrap\)/)
})

test('the command started by an older Node re-runs on the pinned one, and exits 128+n when that one dies of signal n', async () => {
  // Node 20 as far as bin/multilane.js can tell: it re-spawns itself with the pinned Node.
  const oldNode = [
    '--import',
    'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.0.0"})',
  ]
  const brokerDir = join(dir, 'signal')
  const release = await acquireDirLock(brokerDir, { purpose: 'test' }) // `kafka stop` waits on it
  try {
    const { KAFKA_BOOTSTRAP_SERVERS: _, ...env } = process.env
    const run = spawnMultilane(
      ['kafka', 'stop'],
      { ...env, MULTILANE_BROKER_DIR: brokerDir },
      process.execPath,
      oldNode,
    )
    let child: number | undefined
    for (let i = 0; i < 500 && child === undefined; i++) {
      await sleep(20)
      child =
        Number(spawnSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' }).stdout.trim()) ||
        undefined
    }
    assert.ok(child, 'the re-spawned child runs')
    process.kill(child, 'SIGTERM')
    const result = await run.done
    assert.equal(result.code, 128 + 15, `exit code (stderr: ${result.stderr})`)
  } finally {
    release()
  }
})
