// `multilane bench run` on a real broker writes a result bundle — the workload, the
// environment, one JSON and two .hgrm files per point, summary.json and a self-contained
// report.html — in which every produced record was handled (0 lost), the producer kept up
// with its schedule, and `bench report` / `bench compare` read it back. An interrupt (Ctrl-C: the run's
// signal) ends the current point's measurement, drains it, writes it, and skips the rest.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type BenchRun, readBundle, renderComparison } from '../../../src/bench/index.ts'
import { buildProgram } from '../../../src/cli/main.ts'
import { runTinyBench } from '../../support/bench.ts'

let run: BenchRun

before(async () => {
  run = await runTinyBench()
})

after(() => {
  if (run) rmSync(join(run.dir, '..'), { recursive: true, force: true })
})

test('every point handled every produced record, and the producer kept its schedule', () => {
  assert.deepEqual(
    run.points.map((p) => p.name),
    ['cg-segments', 'sg-blocking'],
  )
  for (const p of run.points) {
    assert.equal(
      p.lost,
      0,
      `${p.name}: ${p.produced} produced, ${p.handled} handled; errors ${p.errors.join('; ')}`,
    )
    assert.ok(p.produced > 0 && p.handled === p.produced, p.name)
    assert.equal(p.interrupted, false)
    // The producer schedules by absolute time: a late timer sends what is due, and its stop
    // sends what was due at the window's end, so by the end of warm-up + measurement (4 s at
    // 40/s) at least 160 records went out, whatever the load (a CI run once saw 156 when the
    // last tick came late). A tick between the window's end and the stop may send a few more.
    assert.ok(p.produced >= 160 && p.produced <= 160 + 40 * 10, `${p.name}: ${p.produced} produced`)
    assert.ok(p.endToEndMs.count > 0 && p.publishToDoneMs.count > 0, p.name)
    assert.ok((p.endToEndMs.p50 ?? 0) <= (p.publishToDoneMs.p50 ?? 0), 'processing starts before it ends')
    // 5 % of ≥ 159 first attempts fail: none failing has a chance of 0.95^159 ≈ 0.03 %.
    assert.ok(p.injectedFailures > 0, `${p.name}: some first attempts failed as asked`)
    assert.ok(p.timeline.length >= 4, p.name)
    assert.ok(
      p.timeline.some((s) => typeof s.lag === 'number'),
      `${p.name}: lag was sampled`,
    )
  }
})

test('the bundle holds the workload, the environment, per-point JSON and .hgrm, and report.html', () => {
  for (const file of ['workload.yaml', 'environment.json', 'summary.json', 'report.html']) {
    assert.ok(existsSync(join(run.dir, file)), file)
  }
  for (const name of ['cg-segments', 'sg-blocking']) {
    const json = JSON.parse(readFileSync(join(run.dir, 'points', `${name}.json`), 'utf8'))
    assert.equal(json.lost, 0)
    const hgrm = readFileSync(join(run.dir, 'points', `${name}.e2e.hgrm`), 'utf8')
    assert.match(hgrm, /Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/)
    assert.match(hgrm, /#\[Max\s*=/)
    assert.ok(existsSync(join(run.dir, 'points', `${name}.done.hgrm`)))
  }
  const env = JSON.parse(readFileSync(join(run.dir, 'environment.json'), 'utf8'))
  assert.equal(env.node, process.version)
  assert.ok(env.cpus >= 1)
  const html = readFileSync(join(run.dir, 'report.html'), 'utf8')
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'nothing is loaded from elsewhere')
  assert.match(html, /uPlot/)
  const bundle = readBundle(run.dir)
  assert.equal(bundle.points.length, 2)
})

test('bench report renders the bundle again; bench compare prints per-point ratios', async () => {
  const report = join(run.dir, 'report.html')
  rmSync(report)
  const out: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => {
    out.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    await buildProgram().parseAsync(['node', 'multilane', 'bench', 'report', run.dir])
    await buildProgram().parseAsync(['node', 'multilane', 'bench', 'compare', run.dir, run.dir])
  } finally {
    process.stdout.write = write
  }
  assert.ok(existsSync(report))
  const text = out.join('')
  assert.match(text, /ratios are B ÷ A/)
  assert.match(text, /\| cg-segments \| .*\(×1\.00\)/)
  assert.match(text, /\| sg-blocking \| /)
  assert.match(renderComparison(readBundle(run.dir), readBundle(run.dir)), /lag max/)
})

test('an interrupt ends the current point cleanly: drained, written, 0 lost; later points are skipped', async () => {
  const controller = new AbortController()
  // A long window, so the interrupt lands inside it however late the progress callbacks run.
  const interrupted = await runTinyBench(
    {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'measuring') controller.abort()
      },
    },
    { 'producer.measureSeconds': 120 },
  )
  try {
    assert.deepEqual(
      interrupted.points.map((p) => [p.name, p.interrupted]),
      [['cg-segments', true]],
    )
    const [point] = interrupted.points
    assert.equal(point!.lost, 0, `${point!.produced} produced, ${point!.handled} handled`)
    assert.ok(point!.measuredSeconds < 120, 'the window was cut at the interrupt')
    assert.equal(interrupted.summary.interrupted, true)
    assert.deepEqual(
      readBundle(interrupted.dir).points.map((p) => p.name),
      ['cg-segments'],
    )
    assert.ok(existsSync(interrupted.report))
  } finally {
    rmSync(join(interrupted.dir, '..'), { recursive: true, force: true })
  }
})
