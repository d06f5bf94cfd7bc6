// The day-two features as users get them, from the packed package in a fresh ESM TypeScript
// project. Every ```ts snippet of docs/producing.md, tracing.md, testing-your-app.md,
// operations.md and bench.md typechecks there against the installed package (strict, the
// declaration files checked too), except those the doc marks
// `<!-- snippet: skip-typecheck (reason) -->`; the producing guide's app runs against the test
// broker and enriches what it consumes, and the testing guide's node:test file passes. The
// installed `multilane bench run` runs a tiny workload, `bench report` renders a self-contained
// report.html (uPlot inline) and `bench compare` prints ratios.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createTopics, produce } from '../../../src/testing/index.ts'
import { bootstrapServers, uniqueName } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { ok, packAndInstall, repo, run } from './packed-project.ts'

const DOCS = ['producing.md', 'tracing.md', 'testing-your-app.md', 'operations.md', 'bench.md']
const SKIP = /^<!-- snippet: skip-typecheck \((.+)\) -->$/

interface Snippet {
  doc: string
  file: string
  code: string
  /** Why the doc says it is not typechecked; undefined when it is. */
  skip: string | undefined
}

/** The ```ts blocks of a doc, each with the skip marker on the line before it, if any. */
function snippets(doc: string): Snippet[] {
  const lines = readFileSync(join(repo, 'docs', doc), 'utf8').split('\n')
  const out: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue
    const end = lines.indexOf('```', i + 1)
    assert.ok(end > i, `docs/${doc}:${i + 1}: a \`\`\`ts block is closed`)
    out.push({
      doc,
      file: `${doc.replace(/\.md$/, '')}-${out.length}.ts`,
      code: `${lines.slice(i + 1, end).join('\n')}\n`,
      skip: SKIP.exec(lines[i - 1] ?? '')?.[1],
    })
    i = end
  }
  return out
}

const all = DOCS.flatMap(snippets)
const only = (doc: string): Snippet => {
  const found = all.filter((s) => s.doc === doc && !s.skip)
  assert.equal(found.length, 1, `docs/${doc} has one snippet to run`)
  return found[0]!
}

const dir = mkdtempSync(join(tmpdir(), 'multilane-features-'))
let project = ''
after(() => rmSync(dir, { recursive: true, force: true }))

before(() => {
  ;({ project } = packAndInstall(dir, 'day-two-multilane-app'))
  mkdirSync(join(project, 'snippets'))
  for (const s of all) writeFileSync(join(project, 'snippets', s.file), s.code)
  // The app the testing guide's test imports as ../src/greeter-app.ts: the repository's example,
  // importing the package instead of the sources.
  const greeter = readFileSync(join(repo, 'examples/testing/greeter-app.ts'), 'utf8')
  assert.ok(greeter.includes("from '../../src/index.ts'"))
  mkdirSync(join(project, 'src'))
  writeFileSync(
    join(project, 'src/greeter-app.ts'),
    greeter.replace("from '../../src/index.ts'", "from 'multilane'"),
  )
  writeFileSync(
    join(project, 'snippets/tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2023',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        strict: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        noEmit: true,
        allowImportingTsExtensions: true,
      },
      files: all.filter((s) => !s.skip).map((s) => s.file),
    }),
  )
})

test("the day-two docs' snippets typecheck against the installed package", (t) => {
  for (const doc of DOCS)
    assert.ok(
      all.some((s) => s.doc === doc && !s.skip),
      `docs/${doc} has a snippet that is typechecked`,
    )
  for (const s of all.filter((x) => x.skip)) t.diagnostic(`skipped docs/${s.doc} ${s.file}: ${s.skip}`)
  const result = run(join(project, 'node_modules/.bin/tsc'), ['-p', 'snippets'], project)
  // Declaration files of multilane's dependencies are theirs (@platformatic/kafka's need
  // @types/debug, for one); every other error is a snippet's or multilane's.
  const errors = result.stdout
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .filter((line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/multilane/'))
  assert.deepEqual(errors, [], `tsc of the snippets:\n${result.stdout}`)
})

test("the producing guide's app consumes, enriches and produces on the test broker, stops on SIGTERM", async () => {
  const ordersIn = uniqueName('orders')
  const ordersOut = `${ordersIn}.enriched`
  const group = uniqueName('enrich')
  const code = only('producing.md').code
  for (const name of ["'orders.enriched'", "'orders'", "consumerGroup('enrich'"])
    assert.ok(code.includes(name), `the producing snippet names ${name}`)
  // Fresh names on the shared broker, nothing else changed.
  writeFileSync(
    join(project, 'snippets/producing-run.ts'),
    code
      .replaceAll("'orders.enriched'", `'${ordersOut}'`)
      .replaceAll("'orders'", `'${ordersIn}'`)
      .replaceAll("consumerGroup('enrich'", `consumerGroup('${group}'`),
  )
  const bootstrap = bootstrapServers().join(',')
  await createTopics(bootstrap, { [ordersIn]: 2, [ordersOut]: 1 })
  const orders = Array.from({ length: 5 }, (_, i) => ({ orderId: i, amount: 10 * (i + 1) }))
  await produce(
    bootstrap,
    ordersIn,
    orders.map((o) => ({ key: `customer-${o.orderId % 2}`, value: o })),
  )

  const child = spawn(process.execPath, ['snippets/producing-run.ts'], {
    cwd: project,
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  const exited = once(child, 'exit')
  try {
    const enriched = await readRecords(ordersOut, orders.length, 60_000)
    assert.deepEqual(
      enriched
        .map((r) => JSON.parse(r.value) as unknown)
        .sort((a, b) => (a as { orderId: number }).orderId - (b as { orderId: number }).orderId),
      orders.map((o) => ({ ...o, vat: Math.round(o.amount * 0.2) })),
    )
    for (const r of enriched) {
      assert.equal(r.headers.source, 'enrich')
      assert.match(r.key, /^customer-[01]$/)
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
  }
  const [status, signal] = await exited
  assert.equal(status, 0, `the app's exit (${status ?? signal}):\n${output}`)
})

test("the testing guide's node:test file passes against the test broker", () => {
  const s = only('testing-your-app.md')
  const result = run(
    process.execPath,
    ['--test', '--test-reporter=tap', `snippets/${s.file}`],
    project,
    // Not a subtest of this run: its own runner, reporting on stdout.
    { KAFKA_BOOTSTRAP_SERVERS: bootstrapServers().join(','), NODE_TEST_CONTEXT: undefined },
    120_000,
  )
  const stdout = ok(result, 'node --test of the testing guide')
  assert.match(stdout, /^# pass 1$/m)
  assert.match(stdout, /^# fail 0$/m)
})

test('the installed `multilane bench run`, `report` and `compare` work', () => {
  // 1 partition, 1 member, 2 points, 50/s, 1 s of warm-up and 3 s measured per point.
  writeFileSync(
    join(project, 'tiny.yaml'),
    `name: packed-tiny
description: two short points at a low rate
topic: { partitions: 1 }
producer: { rate: 50, warmupSeconds: 1, measureSeconds: 3, drainTimeoutSeconds: 60 }
consumers:
  group: consumer
  members: 1
  style: continuous
  capacity: 10
  ordering: unordered
  processing: { time: { uniform: { min: 1, max: 5 } } }
points:
  - name: continuous
  - name: blocking
    consumers: { style: blocking, maxPollRecords: 10 }
`,
  )
  const cli = (args: string[], timeoutMs = 60_000): string =>
    ok(
      run('npx', ['--no-install', 'multilane', 'bench', ...args], project, {}, timeoutMs),
      `multilane bench ${args[0]}`,
    )
  cli(['run', 'tiny.yaml', '--out', 'results', '--bootstrap', bootstrapServers().join(',')], 300_000)
  const html = join(project, 'results/report.html')
  rmSync(html, { force: true })
  cli(['report', 'results'])
  assert.ok(existsSync(html), 'bench report wrote results/report.html')
  const page = readFileSync(html, 'utf8')
  assert.doesNotMatch(page, /<script[^>]*\ssrc=/, 'no external script')
  assert.match(page, /<script>[^<]*uPlot/, 'uPlot is inline')
  const compared = cli(['compare', 'results', 'results'])
  assert.match(compared, /ratios are B ÷ A/)
  for (const point of ['continuous', 'blocking'])
    assert.match(compared, new RegExp(`${point}.*\\(×1\\.00\\)`), `${point}: a ratio of 1\n${compared}`)
})
