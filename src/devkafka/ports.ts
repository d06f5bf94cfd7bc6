// Loopback ports for the local Kafka nodes.
import { createConnection, createServer, type Server } from 'node:net'

/** True when nothing listens on `port` of 127.0.0.1 (at this moment). */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * Picks `count` distinct free ports of 127.0.0.1 at once: every socket stays open until all are
 * bound, so the operating system cannot hand out one port twice (picking one at a time, closing
 * each before the next, can return the same port again). Another process may still take one
 * before the broker binds it: a start retries with new ports when that happens
 * (`isPortClash`).
 */
export async function reservePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve())
      })
    }
    return servers.map((s) => {
      const address = s.address()
      if (typeof address !== 'object' || !address) throw new Error('a listening socket without an address')
      return address.port
    })
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

/**
 * True when a node's log shows it could not bind one of its ports: another process took a
 * picked port between the pick and the bind, or two listeners got the same port.
 */
export function isPortClash(logText: string): boolean {
  return /Address already in use|failed to bind|two listeners on the same port/i.test(logText)
}

/** True when something accepts a TCP connection on `port` of 127.0.0.1 (within `timeoutMs`). */
export async function accepts(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1', timeout: timeoutMs })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}
