// A consumer group, a group of two parallel segments (in one process) and a share group, each
// in a process of its own, side by side on a backlog of 200,000 records of 1 KiB (200 MB, more
// than the bound) with a slow handler (an async wait of 1 s per record, continuous style,
// capacity 500): for 60 s, every RSS sample (every 5 s) of every member stays under 300 MB —
// no member holds the backlog in memory — and every member keeps handling records and runs to
// the stop. The members run with --max-semi-space-size=8 --max-old-space-size=128 (V8's young
// and old generations capped, as a memory-bounded deployment caps them: docs/operations.md
// § Memory). The short form of `npm run soak` (chaos/soak-run.ts: 30 minutes, a 1M-record backlog).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runSoak } from '../../../chaos/soak.ts'
import { soakTable } from '../../../chaos/soak-report.ts'
import { bootstrapServers } from '../../support/kafka.ts'

test('soak, short form: a consumer group, parallel segments and a share group over a 200 MB backlog with a slow handler keep every RSS sample under 300 MB for 60 s and keep handling records', {
  timeout: 10 * 60_000,
}, async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'multilane-soak-test-'))
  const lines: string[] = []
  const result = await runSoak({
    bootstrap: bootstrapServers(),
    backlog: 200_000,
    bytes: 1024,
    partitions: 6,
    durationMs: 60_000,
    sampleMs: 5_000,
    warmupMs: 15_000,
    capacity: 500,
    handlerMs: 1000,
    segments: 2,
    rssBoundMb: 300,
    // Node without pointer compression lets V8's young generation grow to two 64 MB semi-spaces
    // whatever the app holds, and sizes the old one for a machine with gigabytes free
    // (RELIABILITY.md § Soak and memory): capped as a memory-bounded deployment caps them, the
    // RSS is what multilane holds — buffers, records in flight — and the runtime's own.
    memberSemiSpaceMb: 8,
    memberHeapMb: 128,
    workDir,
    log: (m) => lines.push(m),
  })
  const report = `${lines.join('\n')}\n${soakTable(result.members.map((m) => m.summary))}\nsamples: ${workDir}`
  t.diagnostic(report)
  assert.deepEqual(result.problems, [], report)
  for (const m of result.members) {
    // A sample every 5 s for 60 s; a loaded machine may delay a few.
    assert.ok(m.summary.samples >= 6, `${m.kind}: ${m.summary.samples} samples\n${report}`)
    assert.ok(m.summary.handled > 0, `${m.kind} handled nothing\n${report}`)
    assert.ok(m.summary.rssMaxMb < 300, `${m.kind}: RSS ${m.summary.rssMaxMb} MB\n${report}`)
  }
  rmSync(workDir, { recursive: true, force: true })
})
