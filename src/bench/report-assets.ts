/** The page style and script of report.html (plain browser JavaScript, no build step). */

export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222 }
table { border-collapse: collapse; margin: 8px 0 16px }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right }
th:first-child, td:first-child, td.text { text-align: left }
.env { color: #555 }
.chart { margin: 8px 0 24px }
.lost { color: #b00; font-weight: bold }
h3 { margin: 18px 0 4px }
pre { background: #f6f6f6; padding: 8px; overflow: auto }
`

export const REPORT_SCRIPT = `
(function () {
  const data = JSON.parse(document.getElementById('bench-data').textContent);
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  const width = Math.min(1160, document.body.clientWidth - 32);
  window.benchCharts = [];
  const pct = (x) => { const p = 100 * (1 - 1 / x); return (p >= 99 ? p.toPrecision(6).replace(/0+$/, '').replace(/[.]$/, '') : p.toFixed(0)) + '%'; };
  function latencyChart(el, key) {
    const series = [{ label: 'percentile', value: (u, v) => v == null ? '' : pct(v) }];
    const rows = [data.grid];
    data.points.forEach((p, i) => {
      series.push({ label: p.name, stroke: palette[i % palette.length], width: 2, spanGaps: false, value: (u, v) => v == null ? '—' : v + ' ms' });
      rows.push(p[key]);
    });
    // The axis ends at the highest percentile any point's data can tell.
    let last = 1;
    data.points.forEach((p) => p[key].forEach((v, i) => { if (v != null) last = Math.max(last, data.grid[i]); }));
    const decades = [];
    for (let x = 1; x <= last * 1.0001; x *= 10) decades.push(x);
    const u = new uPlot({
      width, height: 380,
      scales: { x: { time: false, distr: 3, range: () => [1, Math.max(10, last)] }, y: { distr: 3 } },
      axes: [
        { label: 'percentile', splits: () => decades, values: (u, vals) => vals.map(pct) },
        { label: 'ms', size: 70 },
      ],
      series,
    }, rows, el);
    window.benchCharts.push({ id: el.id, chart: u });
  }
  latencyChart(document.getElementById('latency'), 'endToEnd');
  latencyChart(document.getElementById('done'), 'publishToDone');
  const holder = document.getElementById('timelines');
  data.points.forEach((p, i) => {
    const title = document.createElement('h3');
    title.textContent = p.name + ' (measured from s ' + p.window[0] + ' to s ' + p.window[1] + ')';
    holder.appendChild(title);
    const el = document.createElement('div');
    el.className = 'chart';
    el.id = 'timeline-' + i;
    holder.appendChild(el);
    const t = p.timeline.map((s) => s.t);
    const u = new uPlot({
      width, height: 260,
      scales: { x: { time: false }, lag: {} },
      axes: [
        { label: 'seconds since production started' },
        { label: 'records/s', size: 70 },
        { side: 1, scale: 'lag', label: 'lag', grid: { show: false }, size: 70 },
      ],
      series: [
        { label: 's' },
        { label: 'produced/s', stroke: '#1f77b4', width: 2 },
        { label: 'handled/s', stroke: '#2ca02c', width: 2 },
        { label: 'lag', stroke: '#d62728', width: 1.5, scale: 'lag', spanGaps: true },
      ],
    }, [t, p.timeline.map((s) => s.produced), p.timeline.map((s) => s.done), p.timeline.map((s) => s.lag)], el);
    window.benchCharts.push({ id: el.id, chart: u });
  });
})();
`
