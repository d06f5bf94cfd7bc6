// The V8 flag the engine's consumers set against Node 24's collector mode (src/engine/v8-buffer-gc.ts):
// only on the V8 line that needs it, once per process, never with MULTILANE_KEEP_V8_DEFAULTS=1,
// never against the node command line (the flag named either way, or V8's flags frozen), and a bad
// value of that variable fails the consumer's construction with the consumer's own error class.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EngineError } from '../../../src/engine/errors.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { ShareConsumer } from '../../../src/engine/share/share-consumer.ts'
import { accountBuffersInHeapLimit, keepV8DefaultsProblem } from '../../../src/engine/v8-buffer-gc.ts'

const KEEP = 'MULTILANE_KEEP_V8_DEFAULTS'
const V8_13_6 = '13.6.233.17-node.53'

test('MULTILANE_KEEP_V8_DEFAULTS: 1, 0, empty or unset are fine; anything else is named with its value', () => {
  for (const fine of [undefined, '', '0', '1'])
    assert.equal(keepV8DefaultsProblem({ [KEEP]: fine }), undefined)
  for (const bad of ['yes', 'true', ' 1']) {
    const problem = keepV8DefaultsProblem({ [KEEP]: bad })
    assert.ok(problem?.includes(KEEP) && problem.includes(`"${bad}"`), problem)
  }
})

test('a bad MULTILANE_KEEP_V8_DEFAULTS fails a GroupConsumer (EngineError) and a ShareConsumer (ShareError) when they are made', () => {
  const before = process.env[KEEP]
  process.env[KEEP] = 'on'
  try {
    const bootstrap = ['localhost:1']
    assert.throws(
      () => new GroupConsumer({ bootstrap, clientId: 't', groupId: 'g', topics: ['t'] }),
      (error: unknown) =>
        error instanceof EngineError && error.code === 'INVALID_OPTION' && error.message.includes(KEEP),
    )
    assert.throws(
      () => new ShareConsumer({ bootstrap, clientId: 't', groupId: 'g', topics: ['t'] }),
      (error: unknown) =>
        error instanceof ShareError && error.code === 'INVALID_OPTION' && error.message.includes(KEEP),
    )
  } finally {
    if (before === undefined) delete process.env[KEEP]
    else process.env[KEEP] = before
  }
})

test('the flag is set on V8 13.6 up to 14 only, unless kept, named on the command line or frozen; once per process', () => {
  const set: string[] = []
  const setter = (flags: string) => {
    set.push(flags)
  }
  const account = (env: NodeJS.ProcessEnv, argv: string[], v8: string) =>
    accountBuffersInHeapLimit(env, argv, v8, setter)
  assert.equal(account({}, [], '13.5.212.10-node.1'), 'not-needed')
  assert.equal(account({}, [], '12.4.254.21-node.33'), 'not-needed')
  assert.equal(account({}, [], '15.0.1.0'), 'not-needed')
  assert.equal(account({ [KEEP]: '1' }, [], V8_13_6), 'kept-by-env')
  assert.equal(account({}, ['--freeze-flags-after-init'], V8_13_6), 'flags-frozen')
  assert.equal(account({}, ['--freeze_flags_after_init'], V8_13_6), 'flags-frozen')
  assert.equal(account({}, ['--no-external-memory-accounted-in-global-limit'], V8_13_6), 'user-set')
  assert.equal(account({}, ['--external_memory_accounted_in_global_limit'], V8_13_6), 'user-set')
  assert.deepEqual(set, [], 'nothing set so far')
  assert.equal(
    account({ [KEEP]: 'x' }, ['--max-old-space-size=256'], V8_13_6),
    'set',
    'a value made bad since counts as unset',
  )
  assert.deepEqual(set, ['--external-memory-accounted-in-global-limit'])
  assert.equal(account({}, [], V8_13_6), 'already-set')
  assert.equal(account({}, [], '14.1.146.11'), 'already-set')
  assert.equal(set.length, 1)
})
