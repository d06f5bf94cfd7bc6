// A user's first app, as test/integration/package/packed-package.test.ts installs it: copied into
// a temporary ESM project where `multilane` comes from the packed tarball, typechecked with the
// project's own tsconfig, compiled and run. It imports nothing but `multilane`, `multilane/testing`
// (and Node):
// handles COUNT records of TOPIC in consumer group GROUP, stops itself with SIGTERM as an
// operator would, and prints what it handled as one JSON line.
import {
  type AppOptions,
  ConfigurationError,
  type ConsumedRecord,
  createApp,
  type ErrorOccurredEvent,
  type HandlerContext,
  MultilaneError,
  string,
} from 'multilane'
// The second entry point, for the app's own tests.
import { uniqueName } from 'multilane/testing'

function env(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const topic = env('TOPIC')
const count = Number(env('COUNT'))

// Bad input fails when the app is defined, with an error class users can test for.
let configurationError = ''
try {
  createApp({ kafka: { bootstrap: 'no-port' } })
} catch (error) {
  if (error instanceof ConfigurationError && error instanceof MultilaneError) configurationError = error.code
}

// bootstrap comes from KAFKA_BOOTSTRAP_SERVERS.
const options: AppOptions = { kafka: { clientId: 'packed-package-test' }, logger: false }
const app = createApp(options)
const handled: string[] = []
const errors: string[] = []

app.consumerGroup(env('GROUP'), (g) => {
  g.topic(topic, {
    deserializer: string(),
    processing: { style: 'continuous', capacity: 8, ordering: 'key' },
    handler: async (record: ConsumedRecord<string | null>, context: HandlerContext) => {
      handled.push(`${context.partition}/${record.offset}/${record.keyString}=${record.payload}`)
      if (handled.length === count) process.kill(process.pid, 'SIGTERM')
    },
  })
})
app.on('error.occurred', (event: ErrorOccurredEvent) => {
  errors.push(`${event.type}: ${event.error.message}`)
})

await app.run() // until SIGINT or SIGTERM, then a graceful stop
process.stdout.write(
  `${JSON.stringify({ node: process.version, configurationError, handled, errors, testing: uniqueName('t').startsWith('t-') })}\n`,
)
