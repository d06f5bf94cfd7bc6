// Runs a test fixture (test/fixtures/*.ts) in its own Node process and hands each line it
// prints to `onLine`: crash tests kill these processes and count what they reported.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

export function spawnFixture(
  fixture: string,
  args: readonly string[],
  onLine: (line: string) => void,
): ChildProcess {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../fixtures', fixture), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let rest = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n')
    rest = lines.pop()!
    for (const line of lines) if (line) onLine(line)
  })
  return child
}
