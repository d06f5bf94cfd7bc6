// The V8 flag the engine's consumers set against Node 24's collector mode (src/engine/v8-buffer-gc.ts):
// only on the V8 line that needs it, once per process, never with MULTILANE_KEEP_V8_DEFAULTS=1,
// and a bad value of that variable fails the consumer's construction, naming it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EngineError } from '../../../src/engine/errors.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { ShareConsumer } from '../../../src/engine/share/share-consumer.ts'
import { accountBuffersInHeapLimit, keepsV8Defaults } from '../../../src/engine/v8-buffer-gc.ts'

const KEEP = 'MULTILANE_KEEP_V8_DEFAULTS'

test('MULTILANE_KEEP_V8_DEFAULTS: 1 keeps, unset, empty or 0 lets multilane set the flag, anything else is refused by name', () => {
  assert.equal(keepsV8Defaults({}), false)
  assert.equal(keepsV8Defaults({ [KEEP]: '' }), false)
  assert.equal(keepsV8Defaults({ [KEEP]: '0' }), false)
  assert.equal(keepsV8Defaults({ [KEEP]: '1' }), true)
  for (const bad of ['yes', 'true', ' 1']) {
    assert.throws(
      () => keepsV8Defaults({ [KEEP]: bad }),
      (error: unknown) =>
        error instanceof EngineError &&
        error.code === 'INVALID_OPTION' &&
        error.message.includes(KEEP) &&
        error.message.includes(`"${bad}"`),
    )
  }
})

test('a bad MULTILANE_KEEP_V8_DEFAULTS fails a GroupConsumer and a ShareConsumer when they are made', () => {
  const before = process.env[KEEP]
  process.env[KEEP] = 'on'
  try {
    const bootstrap = ['localhost:1']
    for (const make of [
      () => new GroupConsumer({ bootstrap, clientId: 't', groupId: 'g', topics: ['t'] }),
      () => new ShareConsumer({ bootstrap, clientId: 't', groupId: 'g', topics: ['t'] }),
    ]) {
      assert.throws(
        make,
        (error: unknown) =>
          (error as { code?: string }).code === 'INVALID_OPTION' && String(error).includes(KEEP),
      )
    }
  } finally {
    if (before === undefined) delete process.env[KEEP]
    else process.env[KEEP] = before
  }
})

test('the flag is set on V8 13.6 up to 14 only, unless kept, and once per process', () => {
  assert.equal(accountBuffersInHeapLimit({}, '13.5.212.10-node.1'), 'not-needed')
  assert.equal(accountBuffersInHeapLimit({}, '12.4.254.21-node.33'), 'not-needed')
  assert.equal(accountBuffersInHeapLimit({}, '15.0.1.0'), 'not-needed')
  assert.equal(accountBuffersInHeapLimit({ [KEEP]: '1' }, '13.6.233.17-node.53'), 'kept-by-env')
  assert.equal(accountBuffersInHeapLimit({}, '13.6.233.17-node.53'), 'set')
  assert.equal(accountBuffersInHeapLimit({}, '13.6.233.17-node.53'), 'already-set')
  assert.equal(accountBuffersInHeapLimit({}, '14.1.146.11'), 'already-set')
  assert.throws(() => accountBuffersInHeapLimit({ [KEEP]: 'x' }), /MULTILANE_KEEP_V8_DEFAULTS/)
})
