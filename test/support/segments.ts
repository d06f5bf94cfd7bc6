// Helpers of the parallel segments tests: the `multilane` command against the suite's broker with
// the segments app module (test/fixtures/segments/app.ts), an in-process segments app that
// records what each Kafka group handled, and admin commits to set up group offsets.
import { execFile, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { commitAsAdmin, type OffsetWrite } from '../../src/admin/segment-offsets/group-offsets.ts'
import type { App } from '../../src/app/app.ts'
import { KafkaCluster } from '../../src/kafka/cluster.ts'
import { resolveConnection } from '../../src/kafka/connection-options.ts'
import { segmentOf } from '../../src/segments/routing.ts'
import { type SegmentsAppOptions, segmentsApp } from '../fixtures/segments/segments-app.ts'
import { bootstrapServers, committedOffsets } from './kafka.ts'

/** The repository: the working directory of the commands (app module paths are relative to it). */
export const repo = join(import.meta.dirname, '../..')
export const bin = join(repo, 'bin/multilane.js')
export const appModule = join(import.meta.dirname, '../fixtures/segments/app.ts')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** The segments app module's settings. */
export interface AppSettings {
  topic: string
  group: string
  count: number
  reducer?: 'karafka'
  /** Each handler sleeps this long. */
  handlerDelayMs?: number
}

/** The environment of `multilane` with the suite's cluster and the segments app module configured by `app`. */
export function cliEnv(app?: AppSettings, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVERS: bootstrapServers().join(','),
    ...(app
      ? {
          SEGMENTS_TOPIC: app.topic,
          SEGMENTS_GROUP: app.group,
          SEGMENTS_COUNT: String(app.count),
          ...(app.reducer ? { SEGMENTS_REDUCER: app.reducer } : {}),
          ...(app.handlerDelayMs ? { SEGMENTS_HANDLER_DELAY_MS: String(app.handlerDelayMs) } : {}),
        }
      : {}),
    ...env,
  }
}

/** `multilane <args>` to completion (see cliEnv). */
export function multilane(
  args: readonly string[],
  app?: AppSettings,
  env: Record<string, string> = {},
): CliRun {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: cliEnv(app, env),
    cwd: repo,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/**
 * `multilane <args>` to completion without blocking this process's event loop: for commands run
 * while an in-process app's members must keep heartbeating.
 */
export function multilaneAsync(
  args: readonly string[],
  app?: AppSettings,
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { encoding: 'utf8', env: cliEnv(app, env), cwd: repo },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** An in-process segments app and the records ("partition:offset") each Kafka group handled, in order. */
export function recordingApp(
  options: Omit<SegmentsAppOptions, 'bootstrap' | 'onRecord'> & {
    /** Called before a record is recorded; a promise holds the record (e.g. a stalled one). */
    before?: (partition: number, offset: number, kafkaGroup: string) => unknown
  },
): { app: App; handled: Map<string, string[]>; all: () => string[]; misrouted: string[] } {
  const handled = new Map<string, string[]>()
  const misrouted: string[] = []
  const app: App = segmentsApp({
    ...options,
    bootstrap: bootstrapServers().join(','),
    onRecord: async (record, ctx) => {
      await options.before?.(record.partition, record.offset, ctx.consumerGroup.name)
      const at = `${record.partition}:${record.offset}`
      const list = handled.get(ctx.consumerGroup.name) ?? []
      list.push(at)
      handled.set(ctx.consumerGroup.name, list)
      const routing = app.definition().consumerGroups[0]!.parallelSegments
      if (routing.count > 1 && segmentOf(record, routing) !== ctx.consumerGroup.segmentId) {
        misrouted.push(`${at} in ${ctx.consumerGroup.name}`)
      }
    },
  })
  return { app, handled, all: () => [...handled.values()].flat(), misrouted }
}

/** Writes offsets (with metadata) for an empty group, as the offset commands do. */
export async function commitOffsets(group: string, offsets: OffsetWrite[]): Promise<void> {
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: bootstrapServers(), clientId: 'segments-test' }),
  )
  try {
    await commitAsAdmin(cluster, group, offsets)
  } finally {
    await cluster.close()
  }
}

/** Every group's committed offsets and metadata of a topic, for before/after comparisons. */
export async function commitsOf(
  groups: readonly string[],
  topic: string,
  partitions: number,
): Promise<Record<string, Array<[number, string | null]>>> {
  const out: Record<string, Array<[number, string | null]>> = {}
  for (const g of groups) {
    const committed = await committedOffsets(g, topic, partitions)
    out[g] = [...Array(partitions).keys()].map((p) => {
      const c = committed.get(p)
      return [c?.offset ?? -1, c?.metadata ?? null]
    })
  }
  return out
}

/** The Kafka groups of a segmented group: `<group>-parallel-<i>`. */
export function segmentGroupsOf(group: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${group}-parallel-${i}`)
}
