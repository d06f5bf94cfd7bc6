// Reads records back with @platformatic/kafka's Consumer: an independent reader for tests that
// check what is on the broker (not multilane's own engine).
import { Consumer, type Message, MessagesStreamModes } from '@platformatic/kafka'
import { bootstrapServers, uniqueName } from './kafka.ts'

export interface ReadRecord {
  partition: number
  offset: number
  key: string
  value: string
  headers: Record<string, string>
}

/** Reads exactly `count` records of `topic` from the beginning; throws when they are not there within `timeoutMs`. */
export async function readRecords(topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const consumer = new Consumer({
    clientId: 'multilane-test-reader',
    groupId: uniqueName('reader'),
    bootstrapBrokers: bootstrapServers(),
    maxWaitTime: 200,
  })
  const out: ReadRecord[] = []
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })
    const timer = setTimeout(() => {
      void stream.close()
    }, timeoutMs)
    for await (const message of stream as AsyncIterable<Message>) {
      const headers: Record<string, string> = {}
      for (const [k, v] of message.headers) headers[k.toString()] = v.toString()
      out.push({
        partition: message.partition,
        offset: Number(message.offset),
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers,
      })
      if (out.length === count) break
    }
    clearTimeout(timer)
    await stream.close()
    if (out.length < count)
      throw new Error(`read ${out.length} of ${count} records of ${topic} within ${timeoutMs} ms`)
  } finally {
    await consumer.close(true)
  }
  return out
}
