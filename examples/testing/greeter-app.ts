// The app under test: reads JSON sign-ups, greets each user once (here: into an array the test
// can read; in a real app, an email or a database row), sends undecodable ones to a dead
// letter topic.
import { type App, createApp, json } from '../../src/index.ts'

export interface SignUp {
  user: string
}

export interface GreeterOptions {
  bootstrap: string
  topic: string
  deadLetterTopic: string
  group: string
  greet: (user: string) => void
}

export function greeterApp(o: GreeterOptions): App {
  const app = createApp({ kafka: { bootstrap: o.bootstrap, clientId: 'greeter' }, logger: false })
  app.consumerGroup(o.group, (g) => {
    g.topic(o.topic, {
      deserializer: json<SignUp>(),
      processing: { style: 'continuous', ordering: 'key', capacity: 50 },
      retries: { backoff: { initialMs: 10, maxMs: 100 } },
      deadLetterQueue: { topic: o.deadLetterTopic, maxRetries: 1 },
      handler: (record) => {
        if (typeof record.payload?.user !== 'string') throw new Error('not a sign-up')
        o.greet(record.payload.user)
      },
    })
  })
  return app
}
