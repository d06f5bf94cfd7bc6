// `npm run example:testing`: the app's own test with node:test and multilane/testing, against
// KAFKA_BOOTSTRAP_SERVERS or the local broker (started or reused). In your project, import from
// 'multilane' and 'multilane/testing' instead of ../../src.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTopics, produce, runUntilIdle, testKafka, uniqueName } from '../../src/testing/index.ts'
import { greeterApp } from './greeter-app.ts'

test('every sign-up is greeted once; one that is not JSON goes to the dead letter topic', async () => {
  const { bootstrap } = await testKafka()
  // Fresh names per run: no state left over from an earlier run (or another test) interferes.
  const topic = uniqueName('sign-ups')
  const deadLetterTopic = `${topic}.dlq`
  await createTopics(bootstrap, { [topic]: 3, [deadLetterTopic]: 1 })
  await produce(bootstrap, topic, [
    { key: 'ada', value: { user: 'ada' } },
    { key: 'linus', value: { user: 'linus' } },
    { key: 'grace', value: { user: 'grace' } },
    { key: 'broken', value: 'not json' },
  ])

  const greeted: string[] = []
  const app = greeterApp({
    bootstrap,
    topic,
    deadLetterTopic,
    group: uniqueName('greeter'),
    greet: (user) => greeted.push(user),
  })
  // Starts the app, waits until its group committed everything, stops it.
  const { handled, deadLettered } = await runUntilIdle(app, { timeoutMs: 30_000 })

  assert.deepEqual(greeted.sort(), ['ada', 'grace', 'linus'])
  assert.equal(handled.length, 3)
  assert.deepEqual(
    deadLettered.map((d) => d.deadLetterTopic),
    [deadLetterTopic],
  )
})
