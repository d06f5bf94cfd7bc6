/**
 * report.html: one self-contained file that opens offline. uPlot's JS and CSS are read from
 * node_modules and inlined, the data is embedded as JSON, and nothing is fetched.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { type Bundle, readBundle } from './bundle.ts'
import { parseHgrm, percentileGrid, resample } from './hgrm.ts'
import { REPORT_SCRIPT, REPORT_STYLE } from './report-assets.ts'
import { seedFigure } from './seed-figures.ts'
import { renderSummaryTable } from './tables.ts'

/** Renders report.html of the bundle in `dir` (again); returns its path. */
export function writeReport(dir: string): string {
  const bundle = readBundle(dir)
  const file = join(dir, 'report.html')
  writeFileSync(file, renderReport(bundle))
  return file
}

function uplotAsset(name: 'uPlot.iife.min.js' | 'uPlot.min.css'): string {
  const require = createRequire(import.meta.url)
  const main = require.resolve('uplot')
  return readFileSync(join(main, '..', name), 'utf8')
}

/** The report's data: everything the page script draws. */
export function reportData(bundle: Bundle) {
  const grid = percentileGrid()
  return {
    grid: grid.map((p) => 1 / (1 - p)),
    points: bundle.points.map((p) => ({
      name: p.name,
      endToEnd: resample(parseHgrm(p.histograms.endToEnd), grid),
      publishToDone: resample(parseHgrm(p.histograms.publishToDone), grid),
      timeline: p.timeline,
      window: [p.config.producer.warmupSeconds, p.config.producer.warmupSeconds + p.measuredSeconds],
    })),
  }
}

/** report.html's text for a bundle: self-contained (uPlot and the data inlined). */
export function renderReport(bundle: Bundle): string {
  const { summary, points } = bundle
  const env = summary.environment
  const data = JSON.stringify(reportData(bundle)).replace(/</g, '\\u003c')
  const seedRows = summary.workload.seed
    ? points
        .map((p) => {
          const seed = seedFigure(summary.workload.seed, p.name)
          if (!seed) return ''
          return `<tr><td>${esc(p.name)}</td><td>${esc(seed.throughput)}</td><td class="text">${esc(seed.endToEnd)}</td><td>${p.consumedRate}/s</td><td>${fmt(p.endToEndMs.p50)}</td><td>${fmt(p.endToEndMs.p99)}</td><td>${fmt(p.endToEndMs.max)}</td></tr>`
        })
        .join('')
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>multilane bench: ${esc(summary.workload.name)}</title>
<style>${uplotAsset('uPlot.min.css')}</style>
<style>${REPORT_STYLE}</style>
</head><body>
<h1>multilane bench: ${esc(summary.workload.name)}</h1>
<p>${esc(summary.workload.description)}</p>
<p class="env">Node ${esc(env.node)} · multilane ${esc(env.multilane)} · Kafka ${esc(env.kafka)} · ${esc(env.target)} ·
${env.cpus} CPUs (${esc(env.cpuModel)}) · load average at start ${env.loadAverage.join(' / ')} · started ${esc(env.startedAt)}${summary.interrupted ? ' · <b>interrupted</b>' : ''}</p>
<h2>Summary</h2>
<p>End-to-end latency = processing start − publish time; publish → done = handler end − publish time. Warm-up excluded. Lag = records not yet done as the broker sees it (consumer groups: log end − committed offset; share groups: share-partition lag), sampled each second. Bench CPU and loop delay: the bench process (members and producer) over the window — 100 % is one core; a long event loop delay means the machine, not the design, limits the figures.</p>
${renderSummaryTable(points, 'html')}
${seedRows ? `<h2>Beside the seed study</h2><p>The study's own figures (Kafka 4.3.0, the Java clients, its own cluster) and the ones measured here.</p><table><thead><tr><th>point</th><th>seed throughput</th><th>seed end-to-end latency</th><th>measured throughput</th><th>p50</th><th>p99</th><th>max</th></tr></thead><tbody>${seedRows}</tbody></table>` : ''}
<h2>End-to-end latency by percentile</h2>
<p>HDR style: x = 1/(1 − percentile) on a log scale (10 = 90 %, 100 = 99 %, 1000 = 99.9 %), y = latency in ms (log scale).</p>
<div id="latency" class="chart"></div>
<h2>Publish → done by percentile</h2>
<div id="done" class="chart"></div>
<h2>Rate and lag over time</h2>
<p>Per second: records produced and handled (left axis), lag (right axis). Each title gives the measurement window; before it is the warm-up, after it the drain.</p>
<div id="timelines"></div>
<h2>Points</h2>
${points.map((p) => `<details><summary>${esc(p.name)}</summary><pre>${esc(JSON.stringify({ set: p.set, config: p.config, errors: p.errors, lag: p.lag, produced: p.produced, handled: p.handled, lost: p.lost, duplicates: p.duplicates, injectedFailures: p.injectedFailures }, null, 2))}</pre></details>`).join('\n')}
<script id="bench-data" type="application/json">${data}</script>
<script>${uplotAsset('uPlot.iife.min.js')}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`
}

function fmt(v: number | null): string {
  return v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
