// A multilane app in a child process (test/fixtures/app-process.ts), with what it reported:
// the records whose handler started and finished there. Crash and chaos tests kill these.
import type { ChildProcess } from 'node:child_process'
import { spawnFixture } from './fixture-process.ts'
import { bootstrapServers } from './kafka.ts'

export interface AppProcess {
  child: ChildProcess
  /** "partition:offset" of every record whose handler started in this process. */
  started: Set<string>
  /** …and finished (before the commit that covers it). */
  processed: Set<string>
  /** Resolves with the signal that ended the process (null for a normal exit). */
  exited: Promise<NodeJS.Signals | null>
}

/**
 * Starts the fixture app: continuous style, unordered, `capacity` handlers sleeping 100–300 ms,
 * commits every 100 ms. With `killAfterProcessed` it SIGKILLs itself in the first commit event
 * after that many handlers finished.
 */
export function spawnApp(
  topic: string,
  group: string,
  capacity: number,
  killAfterProcessed?: number,
): AppProcess {
  const started = new Set<string>()
  const processed = new Set<string>()
  const child = spawnFixture(
    'app-process.ts',
    [
      bootstrapServers().join(','),
      topic,
      group,
      String(capacity),
      ...(killAfterProcessed ? [String(killAfterProcessed)] : []),
    ],
    (line) => {
      if (line.startsWith('S ')) started.add(line.slice(2))
      else if (line.startsWith('P ')) processed.add(line.slice(2))
    },
  )
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  )
  return { child, started, processed, exited }
}
