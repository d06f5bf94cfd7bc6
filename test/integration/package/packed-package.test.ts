// The package as users get it. `npm pack` (prepack builds dist/), the tarball installed into a
// fresh ESM TypeScript project beside typescript and @types/node, and consumer/app.ts — an app
// that imports only `multilane` — typechecked, compiled and run against the test broker: on the
// Node running the tests (the pinned one) and on the lowest Node that package.json's engines
// allow. An older Node (20, which lacks Promise.withResolvers) is refused with the reason, both
// by `import 'multilane'` and by the `multilane` command.
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { minimumNodeVersion } from '../../../src/node-version.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
} from '../../support/kafka.ts'
import { nodeBinary } from './node-binary.ts'
import { ok, packAndInstall, pkg, repo, run } from './packed-project.ts'

const LOWEST = minimumNodeVersion(pkg.engines.node)
/** Older than engines allow: the system Node of the machines this project started on. */
const TOO_OLD = '20.20.2'
const PARTITIONS = 2
const RECORDS = 20

const dir = mkdtempSync(join(tmpdir(), 'multilane-package-'))
let project = ''
let tarball = ''
after(() => rmSync(dir, { recursive: true, force: true }))

before(() => {
  ;({ tarball, project } = packAndInstall(dir, 'first-multilane-app'))
  for (const file of ['app.ts', 'tsconfig.json'])
    copyFileSync(join(import.meta.dirname, 'consumer', file), join(project, file))
})

test('the tarball holds the built dist/, the command, LICENSE and README, nothing else', () => {
  const files = ok(run('tar', ['-tzf', tarball], dir), 'tar')
    .trim()
    .split('\n')
  for (const file of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/testing/index.js',
    'dist/testing/index.d.ts',
    'dist/node-version.js',
    'dist/cli/main.js',
  ]) {
    assert.ok(files.includes(`package/${file}`), `${file} is in the tarball`)
  }
  assert.deepEqual(files.filter((f) => !f.startsWith('package/dist/')).sort(), [
    'package/LICENSE',
    'package/README.md',
    'package/bin/multilane.js',
    'package/package.json',
    'package/src/devkafka/pom.xml', // the launcher resolves the Kafka jars with it
  ])
  assert.match(
    readFileSync(join(project, 'node_modules/multilane/LICENSE'), 'utf8'),
    /Apache License\s+Version 2\.0, January 2004/,
  )
})

test('the app typechecks and compiles against the published declarations', () => {
  ok(
    run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], project),
    'tsc (skipLibCheck, as tsc --init sets)',
  )
  // Checking every declaration file as well: none of multilane's may have an error (those of
  // its dependencies are theirs: @platformatic/kafka's need @types/debug, for one).
  const strict = run(
    join(project, 'node_modules/.bin/tsc'),
    ['-p', '.', '--noEmit', '--skipLibCheck', 'false'],
    project,
  )
  const ours = strict.stdout.split('\n').filter((line) => line.includes('node_modules/multilane/'))
  assert.deepEqual(ours, [], "errors in multilane's declaration files")
})

test("the README's and docs/concepts.md's examples typecheck against the package", () => {
  const examples = ['README.md', 'docs/concepts.md'].flatMap((doc) =>
    [...readFileSync(join(repo, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
      file: `${doc.replace(/\W/g, '-')}-${i}.ts`,
      code: m[1]!,
    })),
  )
  assert.ok(examples.length >= 2, 'both documents hold a TypeScript example')
  const docs = join(project, 'doc-examples')
  mkdirSync(docs)
  for (const { file, code } of examples) writeFileSync(join(docs, file), code)
  writeFileSync(
    join(docs, 'tsconfig.json'),
    JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }),
  )
  ok(run(join(project, 'node_modules/.bin/tsc'), ['-p', 'doc-examples'], project), 'tsc of the doc examples')
})

/** Runs the compiled app with `node` on a fresh topic; checks every record was handled and committed. */
async function runApp(node: string, expectedVersion: string): Promise<void> {
  const topic = await createTopic('package-app', PARTITIONS)
  const group = uniqueName('package-app')
  const sent = await produceRecords(topic, RECORDS, { partitions: PARTITIONS })
  const result = run(
    node,
    ['dist/app.js'],
    project,
    {
      KAFKA_BOOTSTRAP_SERVERS: bootstrapServers().join(','),
      TOPIC: topic,
      GROUP: group,
      COUNT: String(RECORDS),
    },
    60_000,
  ) // about 1 s when all is well
  const report = JSON.parse(ok(result, `the app on ${node}`)) as {
    node: string
    configurationError: string
    handled: string[]
    errors: string[]
    testing: boolean
  }
  assert.equal(report.node, `v${expectedVersion}`)
  assert.equal(report.testing, true, 'multilane/testing imports')
  assert.equal(report.configurationError, 'INVALID_CONFIGURATION')
  assert.deepEqual(report.errors, [])
  assert.deepEqual(
    report.handled.map((h) => h.split('/')[2]).sort(),
    sent.map((r) => `${r.key}=${r.value}`).sort(),
  )
  // Stopped gracefully: everything it handled is committed.
  const committed = await committedOffsets(group, topic, PARTITIONS)
  for (let p = 0; p < PARTITIONS; p++) {
    assert.equal(
      committed.get(p)?.offset,
      sent.filter((r) => r.partition === p).length,
      `partition ${p} committed`,
    )
  }
}

test(`the app runs on the Node running the tests (${process.version}): handles every record, commits, stops`, async () => {
  await runApp(process.execPath, process.versions.node)
})

test(`the app runs on Node ${LOWEST}, the lowest engines.node allows`, async () => {
  await runApp(nodeBinary(LOWEST), LOWEST)
})

test('`multilane --version` prints the version on supported Nodes', () => {
  for (const node of [process.execPath, nodeBinary(LOWEST)]) {
    assert.equal(
      ok(run(node, ['node_modules/.bin/multilane', '--version'], project), 'multilane --version'),
      `${pkg.version}\n`,
    )
  }
})

test(`Node ${TOO_OLD} is refused with the reason: by import 'multilane' and by the command`, () => {
  const old = nodeBinary(TOO_OLD)
  const needs = `multilane needs Node.js >= ${LOWEST}; this is Node.js v${TOO_OLD} (${old})`
  const imported = run(old, ['--input-type=module', '-e', "await import('multilane')"], project)
  assert.equal(imported.status, 1)
  assert.ok(imported.stderr.includes(`UnsupportedNodeError: ${needs}`), imported.stderr)
  const command = run(old, ['node_modules/.bin/multilane', '--version'], project)
  assert.equal(command.status, 2)
  assert.equal(command.stderr, `${needs}.\n`)
})
