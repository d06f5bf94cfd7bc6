// The command line over SASL_SSL with SCRAM-SHA-512, as a least-privileged user on a broker in
// ACL mode: `multilane run` (a segmented group and a share group), `segments collapse|check`
// and `share configure|describe --app` work with the ACLs docs/security.md lists; a wrong
// password ends `multilane run` at once with AUTHENTICATION_FAILED (exit 1, no retries); a
// principal without READ on its group ends it with AUTHORIZATION_FAILED naming the group (exit 1).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { multilane, spawnMultilane } from '../../support/launcher.ts'
import { type PrivateBroker, startPrivateBroker } from '../../support/private-broker.ts'
import { addScramUser, grant } from '../../support/security.ts'

const appModule = join(import.meta.dirname, '../../fixtures/security/secure-app.ts')
let broker: PrivateBroker
let savedBootstrap: string | undefined
const user = { username: 'cli-user', password: `cli-secret-${process.pid}` }

before(async () => {
  broker = await startPrivateBroker({ acls: true })
  savedBootstrap = process.env[BOOTSTRAP_ENV]
  process.env[BOOTSTRAP_ENV] = broker.state.bootstrap
  await addScramUser(broker.state, user.username, user.password)
})

after(async () => {
  if (savedBootstrap === undefined) delete process.env[BOOTSTRAP_ENV]
  else process.env[BOOTSTRAP_ENV] = savedBootstrap
  await broker?.stop()
})

/** The fixture's environment: SASL_SSL as `user`; no KAFKA_BOOTSTRAP_SERVERS (it would replace the app's bootstrap). */
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

function handled(stdout: string, group: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .filter((l) => l.startsWith(`P ${group}`))
      .map((l) => l.split(' ').slice(2).join(':')),
  )
}

test('multilane run, segments and share commands over SASL_SSL as a least-privileged user', async () => {
  const topic = await createTopic('sec-cli', 2)
  const group = uniqueName('sec-cli')
  const shareGroup = uniqueName('sec-cli-share')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    // The origin group (segments commands) and its segment groups, by prefix.
    ['GROUP', `${group}*`, 'READ'],
    ['GROUP', shareGroup, 'READ'],
    ['GROUP', shareGroup, 'ALTER_CONFIGS'],
    ['GROUP', shareGroup, 'DESCRIBE_CONFIGS'],
  ])
  await produceRecords(topic, 60, { partitions: 2 })
  const env = appEnv({ SEC_TOPIC: topic, SEC_GROUP: group, SEC_SHARE_GROUP: shareGroup })

  const run = spawnMultilane(['run', appModule], env)
  try {
    await waitUntil(
      () => handled(run.output(), group).size === 60 && handled(run.output(), shareGroup).size === 60,
      {
        timeoutMs: 120_000,
        message: 'both groups handle all 60 records over SASL_SSL',
      },
    )
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, result.stderr)

  // Writes the origin group's offsets (OffsetCommit: READ on the origin group).
  const collapse = multilane(['segments', 'collapse', '--app', appModule], env)
  assert.equal(collapse.code, 0, collapse.stderr)
  assert.match(collapse.stdout, new RegExp(`collapse ${group}: 2 segments`))
  const check = multilane(['segments', 'check', '--app', appModule], env)
  assert.equal(check.code, 0, check.stderr)
  assert.match(check.stdout, new RegExp(`${group}: 2 segments, 60 records sampled`))

  const configure = multilane(
    ['share', 'configure', shareGroup, '--delivery-count-limit', '4', '--app', appModule],
    env,
  )
  assert.equal(configure.code, 0, configure.stderr)
  const describe = multilane(['share', 'describe', shareGroup, '--app', appModule, '--json'], env)
  assert.equal(describe.code, 0, describe.stderr)
  assert.equal((JSON.parse(describe.stdout) as { groupId: string }).groupId, shareGroup)
})

test('a wrong password: multilane run fails at once with AUTHENTICATION_FAILED, exit 1', async () => {
  const topic = await createTopic('sec-cli-auth', 1)
  const env = appEnv({ SEC_TOPIC: topic, SEC_GROUP: uniqueName('sec-cli-auth') }, 'not-the-password')
  const result = await spawnMultilane(['run', appModule], env).done
  assert.equal(result.code, 1, result.stderr)
  assert.match(
    result.stderr,
    /\[AUTHENTICATION_FAILED\] SASL authentication as "cli-user" with SCRAM-SHA-512 failed at 127\.0\.0\.1:\d+: check the username, password and mechanism/,
  )
  assert.doesNotMatch(result.stdout + result.stderr, /retrying in/, 'a refused login is not retried')
})

test('without READ on its groups: multilane run exits 1 with AUTHORIZATION_FAILED naming a segment group', async () => {
  const topic = await createTopic('sec-cli-acl', 1)
  const group = uniqueName('sec-cli-acl')
  await grant(broker.state, user.username, [['TOPIC', topic, 'READ']])
  const result = await spawnMultilane(['run', appModule], appEnv({ SEC_TOPIC: topic, SEC_GROUP: group })).done
  assert.equal(result.code, 1, result.stderr)
  assert.match(
    result.stderr,
    new RegExp(
      `\\[AUTHORIZATION_FAILED\\] not authorized to [^\\n]*group "${group}-parallel-[01]" as "cli-user"`,
    ),
  )
})
