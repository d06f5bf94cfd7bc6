// Runs Apache Kafka's own command-line tools (kafka-tools, from the jars the local broker
// runs on) as an independent check of what multilane does.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findJava } from '../../src/devkafka/java-runtime.ts'
import { kafkaVersion } from '../../src/devkafka/kafka-version.ts'
import { brokerDir, jarCacheDir } from '../../src/devkafka/paths.ts'

const run = promisify(execFile)

/** The Kafka version of the running local broker (its state file), else the pinned one. */
export function brokerKafkaVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(brokerDir(), 'state.json'), 'utf8')) as { version: string }).version
  } catch {
    return kafkaVersion()
  }
}

/** The classpath of the Kafka jars (broker and tools) of `version`. */
export function kafkaClasspath(version = brokerKafkaVersion()): string {
  const libs = join(jarCacheDir(version), 'libs')
  if (!existsSync(join(libs, `kafka-tools-${version}.jar`))) {
    throw new Error(
      `kafka-tools-${version}.jar is not in ${libs}: start the local broker (multilane kafka start) first`,
    )
  }
  return join(libs, '*')
}

/** Runs `mainClass` with `args`; resolves with stdout, rejects with stderr in the message. */
export async function runKafkaTool(
  mainClass: string,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<string> {
  const java = findJava().executable
  try {
    const { stdout } = await run(java, ['-Xmx256m', '-cp', kafkaClasspath(), mainClass, ...args], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    const e = error as Error & { stderr?: string }
    throw new Error(`${mainClass} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`)
  }
}

/** Rows of a table the Kafka tools print (header line, then whitespace-separated columns). */
export function parseToolTable(output: string, firstColumn: string): Array<Record<string, string>> {
  const lines = output.split('\n').filter((l) => l.trim() !== '')
  const headerIndex = lines.findIndex((l) => l.trim().startsWith(firstColumn))
  if (headerIndex < 0) return []
  // "COORDINATOR (ID)" is one column: join header words separated by a single space before "(".
  const header = lines[headerIndex]!.replace(/ \(/g, '_(').trim().split(/\s+/)
  const rows: Array<Record<string, string>> = []
  for (const line of lines.slice(headerIndex + 1)) {
    if (line.trim().startsWith(firstColumn)) break
    const cells = line
      .replace(/ {2}\(/g, '_(')
      .trim()
      .split(/\s+/)
    rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])))
  }
  return rows
}
