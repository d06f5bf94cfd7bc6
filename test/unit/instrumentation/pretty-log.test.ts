// Pretty logs for development: MULTILANE_LOG=pretty (or logger: 'pretty') prints one readable
// line per entry — time, level, message, fields — with an error's stack below, colours only on
// a terminal without NO_COLOR; a wrong MULTILANE_LOG fails the app's definition naming it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { createApp } from '../../../src/app/app.ts'
import {
  formatPrettyLine,
  logFormatFromEnv,
  prettyDestination,
} from '../../../src/instrumentation/pretty-log.ts'

test('a pino entry becomes one line: time, level, message, fields; the stack of an error below', () => {
  const lines: string[] = []
  const logger = pino({ name: 'multilane' }, prettyDestination({ write: (l) => lines.push(l) }))
  logger.warn({ consumerGroup: 'orders', partition: 3, note: 'two words' }, 'handler failed')
  const error = new Error('boom')
  logger.error({ err: error, topic: 't' }, 'fatal: boom')
  assert.match(
    lines[0]!,
    /^\d\d:\d\d:\d\d\.\d\d\d WARN {2}handler failed {2}consumerGroup=orders partition=3 note="two words"\n$/,
  )
  const [first, second] = lines[1]!.split('\n')
  assert.match(first!, /^\d\d:\d\d:\d\d\.\d\d\d ERROR fatal: boom {2}topic=t$/)
  assert.equal(second, '    Error: boom')
  assert.ok(!lines.join('').includes('\u001b['), 'no colours when the target is not a terminal')
})

test('colours on a terminal, none with NO_COLOR; a line that is not JSON passes through', () => {
  const tty: string[] = []
  prettyDestination({ write: (l) => tty.push(l), isTTY: true }, {}).write(
    `${JSON.stringify({ level: 30, time: 0, msg: 'hi' })}\n`,
  )
  assert.ok(tty[0]!.includes('\u001b[32mINFO '), tty[0])
  const plain: string[] = []
  prettyDestination({ write: (l) => plain.push(l), isTTY: true }, { NO_COLOR: '1' }).write(
    `${JSON.stringify({ level: 30, time: 0, msg: 'hi' })}\n`,
  )
  assert.equal(plain[0], '00:00:00.000 INFO  hi\n')
  assert.equal(formatPrettyLine('not json'), 'not json\n')
})

test("MULTILANE_LOG is json or pretty; another value fails createApp naming the variable; logger: 'pretty' is accepted", () => {
  assert.equal(logFormatFromEnv({}), undefined)
  assert.equal(logFormatFromEnv({ MULTILANE_LOG: 'pretty' }), 'pretty')
  assert.equal(logFormatFromEnv({ MULTILANE_LOG: 'json' }), 'json')
  const saved = process.env.MULTILANE_LOG
  process.env.MULTILANE_LOG = 'prety'
  try {
    assert.throws(() => createApp({ kafka: { bootstrap: '127.0.0.1:9092' } }), {
      code: 'INVALID_CONFIGURATION',
      message: 'MULTILANE_LOG: must be "json" or "pretty" (got "prety")',
    })
    // An explicit logger does not read the variable.
    createApp({ kafka: { bootstrap: '127.0.0.1:9092' }, logger: false })
  } finally {
    if (saved === undefined) delete process.env.MULTILANE_LOG
    else process.env.MULTILANE_LOG = saved
  }
  assert.equal(
    typeof createApp({ kafka: { bootstrap: '127.0.0.1:9092' }, logger: 'pretty' }).logger.info,
    'function',
  )
  assert.throws(() => createApp({ logger: 'loud' as never }), /logger: must be false, 'pretty' or a logger/)
})
