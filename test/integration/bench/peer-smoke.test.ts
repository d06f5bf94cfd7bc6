// Every benchmark script runs end to end in a smoke form (a few hundred records, one round) against
// the test broker, as a child process the way a developer runs it: it exits 0 and prints its
// table of figures, each runner with a number (the engine, @platformatic/kafka, KafkaJS, Java's
// ConsumerPerformance and ShareConsumerPerformance, kcat, the app, share and segment members).
// So the scripts cannot rot unseen. The figures themselves are not checked: performance is never
// asserted in tests. A bad flag stops a script before it touches the broker, naming the flag.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { bootstrapServers } from '../../support/kafka.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
/** Generous: a script that hangs is killed and fails with its output, it never hangs the suite. */
const SCRIPT_TIMEOUT_MS = 240_000

interface ScriptRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, script), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

function assertRan(script: string, run: ScriptRun): void {
  const tail = run.stderr.split('\n').slice(-40).join('\n')
  assert.equal(
    run.code,
    0,
    `${script} exited with ${run.signal ?? run.code}\n--- stdout\n${run.stdout}\n--- stderr (tail)\n${tail}`,
  )
}

/** A table row whose first cell contains `label` and whose second cell is a positive number. */
function assertFigure(stdout: string, label: string): void {
  const row = stdout.split('\n').find((line) => line.startsWith('|') && line.split('|')[1]?.includes(label))
  assert.ok(row, `no table row for "${label}" in:\n${stdout}`)
  const figure = Number(row.split('|')[2]!.trim().replaceAll(',', ''))
  assert.ok(figure > 0 && Number.isFinite(figure), `row for "${label}" has no figure: ${row}`)
}

// Scripts run side by side (each on topics of its own: the record counts differ, and the preloaded
// topic's name encodes them), so the file takes the longest script's time, not the sum.
describe('benchmark scripts in smoke form', { concurrency: true }, () => {
  const env = { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrapServers().join(',') }

  test('bench/throughput/run.ts: the engine, @platformatic/kafka, KafkaJS, Java ConsumerPerformance, kcat and the app', async () => {
    const script = 'bench/throughput/run.ts'
    const only = 'multilane,platformatic,kafkajs,java,kcat,continuous,blocking'
    const run = await runScript(script, ['--records', '200', '--repeat', '1', '--only', only], env)
    assertRan(script, run)
    for (const label of [
      'multilane-engine',
      '@platformatic/kafka Consumer',
      'KafkaJS',
      'Java ConsumerPerformance',
      'kcat (librdkafka)',
      'multilane app, continuous',
      'multilane app, blocking',
    ])
      assertFigure(run.stdout, label)
    for (const other of ['platformatic', 'kafkajs', 'java', 'kcat'])
      assert.match(run.stdout, new RegExp(`multilane / ${other} = \\d+\\.\\d+×`))
  })

  test('bench/share/throughput.ts: the engine ShareConsumer, app.shareGroup and Java ShareConsumerPerformance', async () => {
    const script = 'bench/share/throughput.ts'
    const run = await runScript(
      script,
      ['--records', '210', '--repeat', '1', '--only', 'multilane,app,java'],
      env,
    )
    assertRan(script, run)
    for (const label of ['`ShareConsumer`', '`app.shareGroup`', '`ShareConsumerPerformance`'])
      assertFigure(run.stdout, label)
  })

  // Each setup's members are processes of their own: three setups cover the three kinds of member.
  test('bench/share/app-throughput.ts: consumer group, 2 share members, the bare engine', async () => {
    const script = 'bench/share/app-throughput.ts'
    const run = await runScript(
      script,
      ['--records', '220', '--repeat', '1', '--only', 'consumer,share2,engine'],
      env,
    )
    assertRan(script, run)
    for (const label of ['`app.consumerGroup`', '`app.shareGroup`, 2 members', 'engine `ShareConsumer`'])
      assertFigure(run.stdout, label)
  })

  test('bench/share/latency.ts: blocking (record_limit, batch_optimized) against continuous', async () => {
    const script = 'bench/share/latency.ts'
    const args = ['--rate', '40', '--seconds', '1', '--min-ms', '1', '--max-ms', '5', '--capacity', '10']
    const run = await runScript(script, [...args, '--members', '2', '--repeat', '1'], env)
    assertRan(script, run)
    for (const label of ['blocking, record_limit', 'blocking, batch_optimized', 'continuous'])
      assertFigure(run.stdout, label)
  })

  test('bench/processing/latency.ts: blocking against continuous', async () => {
    const script = 'bench/processing/latency.ts'
    const args = ['--rate', '40', '--seconds', '1', '--min-ms', '1', '--max-ms', '5', '--capacity', '10']
    const run = await runScript(script, args, env)
    assertRan(script, run)
    for (const label of ['blocking', 'continuous']) assertFigure(run.stdout, label)
    assert.match(run.stdout, /blocking \/ continuous p50 = \d+\.\d×/)
  })

  // Every variant is a process of its own: two suites (the engine and every partitioner kind; the
  // gated multi-process run) keep the file short.
  test('bench/segments/run.ts: filter cost and the hot key', async () => {
    const script = 'bench/segments/run.ts'
    const args = ['--suites', 'filter,hotkey', '--repeat', '1', '--records', '1000']
    const run = await runScript(script, [...args, '--cpu-records', '120', '--work-us', '10'], env)
    assertRan(script, run)
    for (const label of [
      'bare engine',
      'segment 0 of 4, key partitioner (bytes',
      'segment 0 of 4, payload partitioner',
      'virtual partitions',
      '2 segments, 2 processes',
    ])
      assertFigure(run.stdout, label)
  })

  test('a bad flag stops a script before it connects, naming the flag (exit 2)', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['bench/throughput/run.ts', ['--records', 'many'], /--records must be a whole number, got "many"/],
      ['bench/share/throughput.ts', ['--recrods', '5'], /unknown option '--recrods'/],
      ['bench/throughput/runners/kcat.ts', ['--topic', 't'], /required option '--bootstrap <value>'/],
    ]
    // No broker: a script that got past its flags would fail to connect instead.
    const noBroker = { ...process.env, KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' }
    await Promise.all(
      cases.map(async ([script, args, message]) => {
        const run = await runScript(script, args, noBroker)
        assert.equal(run.code, 2, `${script} ${args.join(' ')}: exit ${run.code}\n${run.stderr}`)
        assert.match(run.stderr, message)
        assert.match(run.stderr, /Usage: /)
      }),
    )
  })
})
