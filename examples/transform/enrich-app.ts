// consume → transform → produce: reads orders, enriches each one, and produces the result to
// another topic with app.producer (the app's own idempotent producer, closed with the app).
// A failed produce fails the handler, so the order is retried: nothing is committed before the
// enriched record is on the broker (at-least-once end to end).
import { type App, createApp, json, jsonSerializer } from '../../src/index.ts'

export interface Order {
  orderId: number
  customer: string
  amount: number
}

export interface EnrichedOrder extends Order {
  tier: 'small' | 'large'
  enrichedAt: string
}

export function enrichApp(options: { bootstrap: string; input: string; output: string; group: string }): App {
  const app = createApp({ kafka: { bootstrap: options.bootstrap, clientId: 'enrich' }, logger: false })
  // A typed view of app.producer: values are EnrichedOrder, serialized as JSON.
  const enriched = app.producer.withSerializer(jsonSerializer<EnrichedOrder>())
  app.consumerGroup(options.group, (g) => {
    g.topic(options.input, {
      deserializer: json<Order>(),
      processing: { style: 'continuous', capacity: 100, ordering: 'key' },
      handler: async (record) => {
        const order = record.payload
        if (order === null) return // a tombstone: nothing to enrich
        await enriched.send({
          topic: options.output,
          key: record.key, // same key: the enriched orders of a customer stay in order
          value: {
            ...order,
            tier: order.amount >= 250 ? 'large' : 'small',
            enrichedAt: new Date().toISOString(),
          },
          headers: { 'source-offset': `${record.partition}:${record.offset}` },
        })
      },
    })
  })
  return app
}
