// An app module for `multilane run` over SASL_SSL with SCRAM-SHA-512 (docs/security.md). It
// connects to KAFKA_SASL_SSL_BOOTSTRAP as KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD, trusting the
// CA in KAFKA_CA_FILE; without them, to the local broker's SASL_SSL listener as its dev user
// (`multilane kafka start [--acls]`). Consumes TOPIC (default `orders`) in group GROUP (default
// `secure-orders`), split into 2 parallel segments, with a dead letter topic DLQ when set.
//
//   npx multilane kafka start --acls
//   npx multilane topics create orders --partitions 2
//   echo hello | npx multilane topics produce orders
//   npx multilane run examples/security/secure-app.ts
import { readFileSync } from 'node:fs'
import { createApp, localKafkaStatus } from '../../src/index.ts'

const env = process.env
const local = env.KAFKA_SASL_SSL_BOOTSTRAP ? undefined : await localKafkaStatus()
const bootstrap = env.KAFKA_SASL_SSL_BOOTSTRAP ?? local?.saslSslBootstrap
const caFile = env.KAFKA_CA_FILE ?? local?.tlsCaFile
if (!bootstrap || !caFile) {
  throw new Error(
    'set KAFKA_SASL_SSL_BOOTSTRAP and KAFKA_CA_FILE, or start the local broker (npx multilane kafka start)',
  )
}

const app = createApp({
  kafka: {
    bootstrap,
    clientId: 'secure-orders',
    sasl: {
      mechanism: 'SCRAM-SHA-512',
      // The local broker's development user (its password is public; never hard-code a real one).
      username: env.KAFKA_SASL_USERNAME ?? 'multilane',
      password: env.KAFKA_SASL_PASSWORD ?? 'multilane-dev-secret',
    },
    tls: { ca: readFileSync(caFile) },
  },
})

app.consumerGroup(env.GROUP ?? 'secure-orders', (g) => {
  g.parallelSegments({ count: 2, partitioner: (r) => r.keyString })
  g.topic(env.TOPIC ?? 'orders', {
    ...(env.DLQ ? { deadLetterQueue: { topic: env.DLQ, maxRetries: 2 } } : {}),
    handler: (record, ctx) => {
      ctx.logger.info({ partition: record.partition, offset: record.offset }, 'handled')
    },
  })
})

export default app
