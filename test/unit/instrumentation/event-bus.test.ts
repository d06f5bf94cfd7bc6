// Event listeners are isolated: one throwing listener does not break the later ones (Prometheus
// among them), is not reported as a handler error, and a throwing error listener does not hide
// real errors.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ErrorOccurredEvent, EventBus } from '../../../src/instrumentation/events.ts'

const committed = { consumerGroup: 'g', offsets: [] }

test('every listener gets every event, whatever an earlier one throws', () => {
  const failures: Array<[string, string]> = []
  const bus = new EventBus({ onListenerError: (name, error) => failures.push([name, error.message]) })
  const seen: string[] = []
  bus.on('offsets.committed', () => seen.push('first'))
  bus.on('offsets.committed', () => {
    throw new Error('listener bug')
  })
  bus.on('offsets.committed', () => seen.push('third'))
  const errors: ErrorOccurredEvent[] = []
  bus.on('error.occurred', (e) => errors.push(e))
  bus.emit('offsets.committed', committed)
  assert.deepEqual(seen, ['first', 'third'])
  // Its own event type, naming the event whose listener failed — not a handler error.
  assert.deepEqual(
    errors.map((e) => [e.type, e.error.message]),
    [['event.listener.error', 'a listener of "offsets.committed" threw: listener bug']],
  )
  assert.deepEqual(failures, [['offsets.committed', 'a listener of "offsets.committed" threw: listener bug']])
})

test('a throwing error.occurred listener does not hide errors from later listeners, and is logged', () => {
  const failures: string[] = []
  const bus = new EventBus({ onListenerError: (name) => failures.push(name) })
  const seen: string[] = []
  bus.on('error.occurred', () => {
    throw new Error('alerting is down')
  })
  bus.on('error.occurred', (e) => seen.push(e.type))
  bus.emit('error.occurred', { type: 'consumer.handler.error', error: new Error('boom') })
  assert.deepEqual(seen, ['consumer.handler.error'])
  assert.deepEqual(failures, ['error.occurred'])
})

test('a listener removed while the event is emitted does not disturb the others', () => {
  const bus = new EventBus()
  const seen: string[] = []
  const once = () => {
    seen.push('once')
    bus.off('offsets.committed', once)
  }
  bus.on('offsets.committed', once)
  bus.on('offsets.committed', () => seen.push('always'))
  bus.emit('offsets.committed', committed)
  bus.emit('offsets.committed', committed)
  assert.deepEqual(seen, ['once', 'always', 'always'])
  assert.equal(bus.listening('offsets.committed'), true)
})

test('a listener flag follows its event: made before or after listeners, through on and off', () => {
  const bus = new EventBus()
  const early = bus.flag('offsets.committed')
  assert.equal(early.on, false)
  const listener = () => {}
  bus.on('offsets.committed', listener)
  assert.equal(early.on, true)
  const late = bus.flag('offsets.committed')
  assert.equal(late.on, true)
  assert.equal(bus.flag('consumer.consumed').on, false, 'other events keep their own flag')
  bus.on('offsets.committed', listener)
  bus.off('offsets.committed', listener)
  assert.equal(early.on, true, 'one of two listeners left')
  bus.off('offsets.committed', listener)
  assert.equal(early.on, false)
  assert.equal(late.on, false)
})
