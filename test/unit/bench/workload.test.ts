// A bench workload file is validated before anything runs: every issue names the field, the
// rule (with what was written) and the line and column it is written on — in the base, in a
// named point's overrides, or in a dimension's values. Points are the named overrides times the
// cartesian product of the dimensions.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BenchError, parseWorkload } from '../../../src/bench/index.ts'
import { loadWorkload } from '../../../src/bench/workload.ts'

const BASE = `name: w
topic:
  partitions: 3
producer:
  rate: 10
  measureSeconds: 5
consumers:
  group: consumer
  members: 2
  style: continuous
  processing:
    time: { fixed: 5 }
`

function issuesOf(text: string): BenchError['issues'] {
  try {
    parseWorkload(text, 'w.yaml')
  } catch (error) {
    assert.ok(error instanceof BenchError, String(error))
    assert.equal(error.code, 'INVALID_WORKLOAD')
    return error.issues
  }
  assert.fail('the workload was accepted')
}

test('a valid workload gives one point with the defaults applied', () => {
  const w = parseWorkload(BASE)
  assert.equal(w.points.length, 1)
  const c = w.points[0]!.config
  assert.equal(c.target, 'local')
  assert.equal(c.topic.recordSize, 100)
  assert.deepEqual(c.topic.keys, { count: 1000, distribution: 'uniform' })
  assert.equal(c.producer.warmupSeconds, 10)
  assert.equal(c.consumers.processing.as, 'sleep')
})

test('a wrong value names the field, the rule, what was written, and its line', () => {
  const issues = issuesOf(BASE.replace('partitions: 3', 'partitions: 0'))
  assert.deepEqual(issues, [
    { field: 'topic.partitions', rule: 'must be an integer ≥ 1 (got 0)', line: 3, column: 3 },
  ])
})

test('an unknown field is reported on its own line, with its name', () => {
  const issues = issuesOf(BASE.replace('  members: 2\n', '  members: 2\n  capacty: 4\n'))
  assert.equal(issues.length, 1)
  assert.equal(issues[0]!.field, 'consumers.capacty')
  assert.match(issues[0]!.rule, /is not a known field/)
  assert.equal(issues[0]!.line, 10)
})

test('a missing required field points at its parent, saying it is not set', () => {
  const issues = issuesOf(BASE.replace('  rate: 10\n', ''))
  assert.equal(issues.length, 1)
  assert.equal(issues[0]!.field, 'producer.rate')
  assert.match(issues[0]!.rule, /is required: must be a number > 0 \(not set\)/)
  assert.equal(issues[0]!.line, 4)
})

test('enumerations and unions list the allowed values', () => {
  const style = issuesOf(BASE.replace('style: continuous', 'style: fast'))
  assert.match(style[0]!.rule, /must be one of "blocking", "continuous" \(got "fast"\)/)
  assert.equal(style[0]!.line, 10)
  const time = issuesOf(BASE.replace('{ fixed: 5 }', '{ gaussian: 5 }'))
  assert.equal(time[0]!.field, 'consumers.processing.time')
  assert.match(
    time[0]!.rule,
    /\{ fixed: <ms ≥ 0> \}, \{ uniform: \{ min: <ms>, max: <ms> \} \} or \{ lognormal/,
  )
  assert.equal(time[0]!.line, 12)
})

test('cross-field rules name the field that breaks them', () => {
  const uniform = issuesOf(BASE.replace('{ fixed: 5 }', '{ uniform: { min: 50, max: 10 } }'))
  assert.equal(uniform[0]!.field, 'consumers.processing.time.uniform.max')
  assert.match(uniform[0]!.rule, /must be ≥ min \(50\) \(got 10\)/)
  const acquire = issuesOf(BASE.replace('  members: 2\n', '  members: 2\n  acquireMode: record_limit\n'))
  assert.deepEqual(
    acquire.map((i) => [i.field, i.line]),
    [['consumers.acquireMode', 10]],
  )
  assert.match(acquire[0]!.rule, /applies to share groups only/)
  const segments = issuesOf(BASE.replace('  members: 2\n', '  members: 2\n  segments: 3\n'))
  assert.equal(segments[0]!.field, 'topic.headers')
  assert.match(segments[0]!.rule, /must include "user_id" when consumers.segments > 1/)
})

test("an override's issue is reported on the point's line, a dimension's on the value's line", () => {
  const text = `${BASE}points:
  - name: a
    consumers: { members: 0 }
  - name: b
dimensions:
  consumers.capacity: [10, "many"]
`
  const issues = issuesOf(text)
  const byField = issues.map((i) => [i.field, i.line, i.rule])
  assert.deepEqual(byField, [
    ['points.a: consumers.members', 15, 'must be an integer ≥ 1 (got 0)'],
    ['points.a: consumers.capacity', 18, 'must be an integer ≥ 1 (got "many")'],
    ['points.b: consumers.capacity', 18, 'must be an integer ≥ 1 (got "many")'],
  ])
})

test('the message lists every issue as file:line:column field: rule', () => {
  assert.throws(
    () =>
      parseWorkload(
        BASE.replace('partitions: 3', 'partitions: -2').replace('rate: 10', 'rate: fast'),
        'w.yaml',
      ),
    (e: unknown) =>
      e instanceof BenchError &&
      e.message.includes('w.yaml:3:3 topic.partitions: must be an integer ≥ 1 (got -2)') &&
      e.message.includes('w.yaml:5:3 producer.rate: must be a number > 0 (got "fast")'),
  )
})

test('YAML syntax errors and duplicate keys are reported with their line', () => {
  const syntax = issuesOf(`${BASE}  bad: [1, 2\n`)
  assert.equal(syntax[0]!.field, '(yaml)')
  assert.ok(syntax[0]!.line >= 13)
  const duplicate = issuesOf(`${BASE}name: again\n`)
  assert.equal(duplicate[0]!.field, '(yaml)')
  assert.equal(duplicate[0]!.line, 13)
})

test('a point name used twice is reported on its second use', () => {
  const issues = issuesOf(`${BASE}points:\n  - name: a\n  - name: a\n`)
  assert.deepEqual(
    issues.map((i) => [i.field, i.line]),
    [['points[1].name', 15]],
  )
})

test('named points × dimensions: every combination is a point, named by its values', () => {
  const w = parseWorkload(`${BASE}points:
  - name: cg
  - name: sg
    consumers: { group: share, acquireMode: record_limit }
dimensions:
  consumers.style: [blocking, continuous]
  topic.partitions: [1, 2]
`)
  assert.deepEqual(
    w.points.map((p) => p.name),
    [
      'cg,style=blocking,partitions=1',
      'cg,style=blocking,partitions=2',
      'cg,style=continuous,partitions=1',
      'cg,style=continuous,partitions=2',
      'sg,style=blocking,partitions=1',
      'sg,style=blocking,partitions=2',
      'sg,style=continuous,partitions=1',
      'sg,style=continuous,partitions=2',
    ],
  )
  const last = w.points.at(-1)!
  assert.equal(last.config.consumers.group, 'share')
  assert.equal(last.config.consumers.acquireMode, 'record_limit')
  assert.equal(last.config.topic.partitions, 2)
  assert.deepEqual(last.set, {
    'consumers.group': 'share',
    'consumers.acquireMode': 'record_limit',
    'consumers.style': 'continuous',
    'topic.partitions': 2,
  })
})

test('an override of a processing time or key distribution replaces it whole', () => {
  const w = parseWorkload(`${BASE}points:
  - name: a
    consumers: { processing: { time: { uniform: { min: 1, max: 2 } } } }
  - name: b
    topic: { keys: { distribution: { zipf: { s: 1.2 } } } }
`)
  assert.deepEqual(w.points[0]!.config.consumers.processing.time, { uniform: { min: 1, max: 2 } })
  assert.deepEqual(w.points[1]!.config.topic.keys.distribution, { zipf: { s: 1.2 } })
  assert.deepEqual(w.points[1]!.config.consumers.processing.time, { fixed: 5 })
})

test('--set overrides a field of every point, after the points; its issues name the --set', () => {
  const w = parseWorkload(
    `${BASE}points:\n  - name: a\n    producer: { measureSeconds: 9 }\n  - name: b\n`,
    'w.yaml',
    {
      'producer.measureSeconds': 60,
    },
  )
  assert.deepEqual(
    w.points.map((p) => [p.name, p.config.producer.measureSeconds]),
    [
      ['a', 60],
      ['b', 60],
    ],
  )
  assert.throws(
    () => parseWorkload(BASE, 'w.yaml', { 'consumers.members': 0 }),
    (e: unknown) =>
      e instanceof BenchError &&
      e.message.includes('\n  --set consumers.members: must be an integer ≥ 1 (got 0)') &&
      e.issues[0]?.line === 0,
  )
})

test('the shipped study workloads are valid', () => {
  for (const file of ['client-local-parallelism.yaml', 'client-local-parallelism-demo.yaml']) {
    const w = loadWorkload(new URL(`../../../examples/workloads/${file}`, import.meta.url).pathname)
    assert.deepEqual(
      w.points.map((p) => p.name),
      ['cg-blocking', 'cg-continuous', 'sg-blocking', 'sg-continuous', 'cg-continuous-3seg'],
    )
  }
})
