// Credentials never appear: with a SCRAM-SHA-512 user over SASL_SSL, the password is absent from
// everything multilane shows — an app's log lines, error messages and emitted events (with a
// failing handler and a dead letter queue), its Prometheus metrics, `multilane run`'s output and
// its /metrics and /healthz, CLI commands' output (a failing one too), and a `bench run` result
// bundle. Each place is checked to be non-empty, so an absent capture cannot pass.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import { createApp } from '../../../src/app/app.ts'
import { parseWorkload, runBench } from '../../../src/bench/index.ts'
import { reservePorts } from '../../../src/devkafka/ports.ts'
import { instrumentPrometheus } from '../../../src/instrumentation/prometheus.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { runUntilIdle } from '../../../src/testing/run-until-idle.ts'
import { capturedLogger, errorReplacer } from '../../support/captured-logger.ts'
import { createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { multilane, spawnMultilane } from '../../support/launcher.ts'
import { type PrivateBroker, startPrivateBroker } from '../../support/private-broker.ts'
import { addScramUser, saslSslKafka } from '../../support/security.ts'

const appModule = join(import.meta.dirname, '../../fixtures/security/secure-app.ts')
// Unique, so a match can only be a leak.
const user = { username: 'secret-user', password: `pw-${randomBytes(12).toString('hex')}` }
let broker: PrivateBroker
let savedBootstrap: string | undefined

before(async () => {
  // No ACL mode: the bench creates topics; this file is about what is shown, not what is allowed.
  broker = await startPrivateBroker()
  savedBootstrap = process.env[BOOTSTRAP_ENV]
  process.env[BOOTSTRAP_ENV] = broker.state.bootstrap
  await addScramUser(broker.state, user.username, user.password)
})

after(async () => {
  if (savedBootstrap === undefined) delete process.env[BOOTSTRAP_ENV]
  else process.env[BOOTSTRAP_ENV] = savedBootstrap
  await broker?.stop()
})

function assertAbsent(where: string, text: string, password = user.password): void {
  assert.ok(text.length > 0, `${where}: nothing captured`)
  assert.ok(
    !text.includes(password),
    `${where} shows the password:\n${text.slice(Math.max(0, text.indexOf(password) - 300), text.indexOf(password) + 100)}`,
  )
}

function appEnv(vars: Record<string, string>, password = user.password): NodeJS.ProcessEnv {
  const { [BOOTSTRAP_ENV]: _, ...env } = process.env
  return {
    ...env,
    SEC_BOOTSTRAP: broker.state.saslSslBootstrap!,
    SEC_USERNAME: user.username,
    SEC_PASSWORD: password,
    SEC_CA_FILE: broker.state.tlsCaFile,
    ...vars,
  }
}

test('an app with a failing handler and a dead letter queue: logs, errors, events and metrics', async () => {
  const topic = await createTopic('cred-app', 2)
  const dlq = await createTopic('cred-app-dlq', 1)
  await produceRecords(topic, 40, { partitions: 2 })
  const logger = capturedLogger()
  const app = createApp({
    kafka: saslSslKafka(broker.state, user),
    logger,
    statisticsIntervalMs: 200,
  })
  const prometheus = instrumentPrometheus(app)
  app.consumerGroup(uniqueName('cred-app'), (g) => {
    g.topic(topic, {
      retries: { maxRetries: 1, backoff: { initialMs: 10 } },
      deadLetterQueue: { topic: dlq },
      handler: (record) => {
        if (record.offset % 10 === 3) throw new Error(`failing ${record.offset}`)
      },
    })
  })
  const { events, deadLettered } = await runUntilIdle(app, { timeoutMs: 90_000 })
  assert.ok(deadLettered.length > 0, 'records were dead-lettered')
  const metrics = await prometheus.registry.metrics()
  prometheus.close()
  assertAbsent('the log', logger.lines.join('\n'))
  assertAbsent('the events (JSON)', events.map((e) => JSON.stringify(e, errorReplacer)).join('\n'))
  const errors = events.flatMap((e) => (e.name === 'error.occurred' ? [e.event.error] : []))
  assert.ok(errors.length > 0, 'handler errors were reported')
  assertAbsent('the errors', errors.map((e) => inspect(e, { depth: 20 })).join('\n'))
  assertAbsent('/metrics', metrics)
  assertAbsent('the app as logged', inspect(app, { depth: 6 }))

  // A failed start: its error (and causes) and log.
  const failedLog = capturedLogger()
  const wrong = `wrong-${randomBytes(8).toString('hex')}`
  const failing = createApp({
    kafka: saslSslKafka(broker.state, { username: user.username, password: wrong }),
    logger: failedLog,
  })
  failing.consumerGroup(uniqueName('cred-fail'), (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const error = await failing.start().then(
    () => assert.fail('started with a wrong password'),
    (e: unknown) => e as Error,
  )
  await failing.stop().catch(() => {})
  assert.equal((error as { code?: string }).code, 'AUTHENTICATION_FAILED')
  assertAbsent('the authentication error', inspect(error, { depth: 20 }), wrong)
  assertAbsent('the authentication error (JSON)', JSON.stringify(error, errorReplacer), wrong)
  if (failedLog.lines.length > 0) assertAbsent('the failed start log', failedLog.lines.join('\n'), wrong)
})

test('multilane run (default log, /metrics, /healthz) and CLI commands', async () => {
  const topic = await createTopic('cred-run', 2)
  const dlq = await createTopic('cred-run-dlq', 1)
  const group = uniqueName('cred-run')
  await produceRecords(topic, 30, { partitions: 2 }) // keys k0…k29: k3 always fails
  const [port] = await reservePorts(1)
  const env = appEnv({ SEC_TOPIC: topic, SEC_GROUP: group, SEC_DLQ: dlq, SEC_FAIL_KEYS: 'k3' })
  const run = spawnMultilane(['run', appModule, '--http-port', String(port)], env)
  let metrics = ''
  let health = ''
  try {
    await waitUntil(
      () =>
        run
          .output()
          .split('\n')
          .filter((l) => l.startsWith(`P ${group}`)).length >= 10,
      {
        timeoutMs: 120_000,
        message: 'records handled under multilane run',
      },
    )
    await waitUntil(
      async () => {
        metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
        return /dead_letter_records_total\{[^}]*\} [1-9]/.test(metrics)
      },
      { timeoutMs: 120_000, message: 'a record was dead-lettered (metrics)' },
    )
    health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()
    health += await (await fetch(`http://127.0.0.1:${port}/readyz`)).text()
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout + result.stderr, /failing key k3/, 'the default log reports the handler errors')
  assertAbsent('multilane run output', result.stdout + result.stderr)
  assertAbsent('/metrics of multilane run', metrics)
  assertAbsent('/healthz and /readyz', health)

  const commands: string[][] = [
    ['segments', 'check', '--app', appModule],
    ['segments', 'collapse', '--dry-run', '--app', appModule],
    ['share', 'describe', 'no-such-share-group', '--app', appModule],
    ['groups', 'describe', group, '--app', appModule],
  ]
  for (const args of commands) {
    const r = multilane(args, env)
    assertAbsent(`multilane ${args.join(' ')}`, r.stdout + r.stderr)
  }
  const wrong = `wrong-${randomBytes(8).toString('hex')}`
  const refused = multilane(
    ['segments', 'check', '--app', appModule],
    appEnv({ SEC_TOPIC: topic, SEC_GROUP: group }, wrong),
  )
  assert.equal(refused.code, 1, refused.stderr)
  assert.match(refused.stderr, /AUTHENTICATION_FAILED/)
  assertAbsent('a refused CLI command', refused.stdout + refused.stderr, wrong)
})

test('a bench run result bundle with SASL', async () => {
  const root = mkdtempSync(join(tmpdir(), 'multilane-bench-sasl-'))
  try {
    const yaml = `name: sasl
description: one short point over SASL_SSL
target:
  bootstrap: ${broker.state.saslSslBootstrap}
  sasl: { mechanism: SCRAM-SHA-512, username: ${user.username}, password: ${user.password} }
  tls: { caFile: ${broker.state.tlsCaFile} }
topic: { partitions: 2, keys: { count: 20 } }
producer: { rate: 40, warmupSeconds: 1, measureSeconds: 2, drainTimeoutSeconds: 120 }
consumers:
  group: consumer
  members: 1
  style: continuous
  capacity: 10
  ordering: unordered
  processing: { time: { uniform: { min: 1, max: 5 } }, failureShare: 0.05 }
points:
  - name: cg
`
    const workloadFile = join(root, 'sasl.yaml')
    writeFileSync(workloadFile, yaml)
    const lines: string[] = []
    const bench = await runBench(parseWorkload(yaml, workloadFile), {
      out: join(root, 'result'),
      onLine: (l) => lines.push(l),
    })
    assertAbsent('bench run lines', lines.join('\n'))
    const files = listFiles(bench.dir)
    assert.ok(files.length > 3, `bundle files: ${files.join(', ')}`)
    for (const file of files) assertAbsent(`bundle file ${file}`, readFileSync(file, 'utf8') || ' ')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })
}
