// The app a user would write: one consumer group, one topic, continuous processing with key
// ordering (each customer's orders in sequence, customers in parallel), retries and a DLQ.
import { setTimeout as sleep } from 'node:timers/promises'
import { type App, createApp, json } from '../../src/index.ts'

export interface Order {
  orderId: number
  customer: string
  amount: number
  /** Simulated failures: "flaky" fails twice then succeeds, "poison" always fails. */
  kind: 'ok' | 'flaky' | 'poison'
}

export interface OrdersAppOptions {
  bootstrap: string
  topic: string
  deadLetterTopic: string
  group: string
  /** Called when a handler starts, with the record's age (processing start − publish time). */
  onStart?: (endToEndMs: number) => void
  onDone?: () => void
}

export function ordersApp(options: OrdersAppOptions): App {
  const app = createApp({ kafka: { bootstrap: options.bootstrap, clientId: 'quickstart' }, logger: false })
  const failures = new Map<number, number>()
  app.consumerGroup(options.group, (g) => {
    g.topic(options.topic, {
      deserializer: json<Order>(),
      processing: { style: 'continuous', capacity: 200, ordering: 'key' },
      // Lanes are cheap: enough of them that customers rarely share one (each lane runs in order).
      virtualPartitions: { maxPartitions: 256 },
      retries: { backoff: { initialMs: 100, maxMs: 1000, exponential: true } },
      deadLetterQueue: { topic: options.deadLetterTopic, maxRetries: 2 },
      handler: async (record) => {
        if (record.payload === null) return
        const order = record.payload
        if ((failures.get(order.orderId) ?? 0) === 0) options.onStart?.(Date.now() - record.timestamp)
        await sleep(50 + Math.random() * 150) // the "work": 50–200 ms
        if (order.kind === 'poison' || (order.kind === 'flaky' && (failures.get(order.orderId) ?? 0) < 2)) {
          failures.set(order.orderId, (failures.get(order.orderId) ?? 0) + 1)
          throw new Error(`order ${order.orderId} could not be booked`)
        }
        options.onDone?.()
      },
    })
  })
  return app
}
