// A generated report.html opens offline in a real browser (headless Chromium, every non-file
// request aborted) and draws every chart with data — both latency distributions and each
// point's rate/lag timeline — without a console error. A screenshot is saved to a temp dir.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import type { BenchRun } from '../../../src/bench/index.ts'
import { runTinyBench } from '../../support/bench.ts'

const CHROMIUM = '/usr/bin/chromium'
let run: BenchRun

before(async () => {
  // No skipping: without the browser this test fails and says how to get it.
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\``,
  )
  run = await runTinyBench()
})

after(() => {
  if (run) rmSync(join(run.dir, '..'), { recursive: true, force: true })
})

interface ChartState {
  id: string
  series: number
  points: number
  nonNull: number
  paintedPixels: number
}

test('report.html draws every chart with data, offline, without console errors', async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const blocked: string[] = []
    await page.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith('file:')) return route.continue()
      blocked.push(url)
      return route.abort()
    })
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await page.goto(pathToFileURL(run.report).href)
    // Browser-side code as text: the test's TypeScript has no DOM types.
    await page.waitForFunction('Array.isArray(window.benchCharts)')
    const charts = (await page.evaluate(`window.benchCharts.map(({ id, chart }) => {
      const canvas = chart.root.querySelector('canvas')
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      let painted = 0
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++
      return {
        id,
        series: chart.data.length - 1,
        points: chart.data[0].length,
        nonNull: chart.data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && v !== undefined).length, 0),
        paintedPixels: painted,
      }
    })`)) as ChartState[]
    const ids = charts.map((c) => c.id)
    assert.deepEqual(ids, ['latency', 'done', 'timeline-0', 'timeline-1'])
    for (const c of charts) {
      assert.ok(c.series >= 2, `${c.id}: ${c.series} series`)
      assert.ok(c.points > 0 && c.nonNull > 0, `${c.id}: no data`)
      assert.ok(c.paintedPixels > 500, `${c.id}: the canvas is (nearly) empty (${c.paintedPixels} pixels)`)
    }
    assert.deepEqual(problems, [])
    assert.deepEqual(blocked, [], 'the report asked for nothing outside its file')
    const shots = mkdtempSync(join(tmpdir(), 'multilane-report-'))
    const shot = join(shots, 'bench-report.png')
    await page.screenshot({ path: shot, fullPage: true })
    assert.ok(statSync(shot).size > 10_000)
    process.stderr.write(`report screenshot: ${shot}\n`)
  } finally {
    await browser.close()
  }
})
