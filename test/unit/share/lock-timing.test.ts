// Lock timing: how far ahead a renewal is asked for, and which lock durations renewal cannot
// serve (the member warns of those once).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  minimumWorkableLockMs,
  renewalLeadMs,
  shortLockWarning,
} from '../../../src/engine/share/lock-timing.ts'

describe('lock timing', () => {
  it('a renewal is asked for a fetch wait plus a second ahead; a lock needs that plus a fetch wait', () => {
    assert.equal(renewalLeadMs(500), 1500)
    assert.equal(minimumWorkableLockMs(500), 2000)
  })

  it('locks shorter than the minimum get a warning naming the setting; others none', () => {
    const warning = shortLockWarning(1000, 500)
    assert.ok(warning)
    assert.match(warning, /1000 ms/)
    assert.match(warning, /share\.record\.lock\.duration\.ms/)
    assert.ok(shortLockWarning(1999, 500))
    assert.equal(shortLockWarning(2000, 500), undefined)
    assert.equal(shortLockWarning(30_000, 500), undefined)
    assert.equal(shortLockWarning(0, 500), undefined, 'an unknown lock duration is not warned of')
  })
})
