// The intake budget decides how many records a member may take, per partition and per topic,
// and counts what it holds. Grants: in continuous style up to a topic's `capacity` (× 4 with
// partition or key ordering, for the records waiting in lanes), never past a partition's
// progress allowance, reserved until the take ends. Parking: records parked behind a retry hold
// no budget, but a partition holds at most 10 × its take limit in all. Release: once per unit;
// the run whose last record leaves is told. The capacity signal wakes the loop when room may
// have come free. No runtime, broker or clock: every step is called and counted directly.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { partitionKey } from '../../../src/engine/types.ts'
import { raw } from '../../../src/processing/deserializers.ts'
import { IntakeBudget, LANE_LOOKAHEAD_FACTOR, PARKED_FACTOR } from '../../../src/processing/intake-budget.ts'
import { PartitionRun } from '../../../src/processing/partition-run.ts'
import type { PartitionProgress } from '../../../src/processing/progress.ts'
import { ConsumedRecord } from '../../../src/processing/record.ts'
import type { ProcessingStyle } from '../../../src/processing/runtime-input.ts'
import { type UnitHost, WorkUnit } from '../../../src/processing/work-unit.ts'
import { type HarnessTopic, topicOf } from '../../support/runtime-harness.ts'

/** A partition's progress of which only the allowance matters here. */
class StubProgress implements PartitionProgress {
  allowance = Number.POSITIVE_INFINITY
  readonly committedOffset = -1
  shouldSkip(): boolean {
    return false
  }
  skip(): void {}
  track(): void {}
  finish(): void {}
  abandon(): void {}
  advance(): void {}
  intakeAllowance(): number {
    return this.allowance
  }
}

const HOST: UnitHost = {
  group: { name: 'g', segmentId: -1, segmentOrigin: 'g' },
  logger: pino({ enabled: false }),
  markAsConsumed() {},
  commitPartition: async () => {},
  pausePartition() {},
  requestSeek() {},
}

function setup(style: ProcessingStyle, topics: HarnessTopic[]) {
  const runtimeTopics = topics.map((t) => topicOf({ ...t, processing: { ...t.processing, style } }))
  const runs = new Map<string, PartitionRun>()
  const drained: PartitionRun[] = []
  const budget = new IntakeBudget({ style, topics: runtimeTopics, runs, drained: (run) => drained.push(run) })
  let nextOffset = 0
  return {
    budget,
    drained,
    /** Assigns a partition: its run, with a progress whose allowance the test sets. */
    assign(topic: string, partition: number): PartitionRun & { progress: StubProgress } {
      const key = partitionKey(topic, partition)
      const run = new PartitionRun(
        runtimeTopics.find((t) => t.name === topic)!,
        budget.loadOf(topic),
        partition,
        key,
      )
      run.progress = new StubProgress()
      runs.set(key, run)
      return run as PartitionRun & { progress: StubProgress }
    },
    /** A unit of `size` records of `run` (a batch when more than one). */
    unit(run: PartitionRun, size = 1): WorkUnit {
      const record = (): [ConsumerRecord, ConsumedRecord<unknown>] => {
        const r: ConsumerRecord = {
          topic: run.topic.name,
          partition: run.partition,
          offset: nextOffset++,
          timestamp: 0,
          key: null,
          value: null,
          headers: [],
          leaderEpoch: 0,
        }
        return [r, new ConsumedRecord(r, raw())]
      }
      const unit = new WorkUnit(HOST, run, run.progress, null, ...record())
      for (let i = 1; i < size; i++) unit.add(...record())
      return unit
    },
  }
}

/** True when `promise` has settled by the next turn of the event loop (no clock involved). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ])
}

/** Whether a wake is pending: a wait resolves at once. A wait left pending is resolved by a wake. */
async function woken(budget: IntakeBudget): Promise<boolean> {
  const wait = budget.waitForCapacity(60_000)
  if (await settled(wait)) return true
  budget.wake()
  await wait
  return false
}

test('unordered, continuous: a take is granted up to the topic capacity, reserved until the take ends', () => {
  const { budget, assign } = setup('continuous', [
    { name: 't', processing: { capacity: 3, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  const p1 = assign('t', 1)
  assert.equal(budget.free(), 3)
  assert.equal(budget.limit(p0.key, 10), 3)
  assert.equal(budget.limit(p1.key, 10), 0, 'the topic capacity is reserved for partition 0')
  assert.equal(p0.reserved, 3)
  assert.equal(p0.load.reserved, 3)
  budget.endTake()
  assert.equal(p0.reserved, 0, 'the take ended: nothing stays reserved')
  assert.equal(p0.load.reserved, 0)
  assert.equal(budget.limit(p1.key, 2), 2, 'no more than wanted')
  assert.equal(budget.limit(p0.key, 10), 1, 'the rest of the topic capacity')
  budget.endTake()
})

test('with partition or key ordering a topic may take 4 × capacity: the records waiting in lanes', () => {
  for (const ordering of ['partition', 'key'] as const) {
    const { budget, assign } = setup('continuous', [{ name: 't', processing: { capacity: 2, ordering } }])
    const p0 = assign('t', 0)
    assert.equal(budget.free(), 2 * LANE_LOOKAHEAD_FACTOR, ordering)
    assert.equal(budget.limit(p0.key, 100), 2 * LANE_LOOKAHEAD_FACTOR, ordering)
    budget.endTake()
  }
})

test("a grant never exceeds the partition's progress allowance", () => {
  const { budget, assign } = setup('continuous', [
    { name: 't', processing: { capacity: 10, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  p0.progress.allowance = 2
  assert.equal(budget.limit(p0.key, 10), 2)
  budget.endTake()
  p0.progress.allowance = 0
  assert.equal(budget.limit(p0.key, 10), 0, 'intake held by the progress (offset map or window limit)')
  assert.equal(p0.reserved, 0, 'no grant, no reservation')
})

test('a partition that does not take records is granted nothing: unknown, revoking, paused, seeking, retired', () => {
  const { budget, assign } = setup('continuous', [
    { name: 't', processing: { capacity: 10, ordering: 'unordered' } },
  ])
  assert.equal(budget.limit(partitionKey('t', 9), 5), 0, 'not assigned')
  const revoking = assign('t', 0)
  revoking.revoking = true
  const paused = assign('t', 1)
  paused.userPaused = true
  const seeking = assign('t', 2)
  seeking.seekTo = 0
  const retired = assign('t', 3)
  retired.active = false
  for (const run of [revoking, paused, seeking, retired]) assert.equal(budget.limit(run.key, 5), 0, run.key)
  assert.equal(budget.limit(assign('t', 4).key, 5), 5, 'an ordinary partition is granted')
  budget.endTake()
})

test('blocking style takes what the progress allows, whatever the capacity (its poll size bounds it)', () => {
  const { budget, assign } = setup('blocking', [
    { name: 't', processing: { capacity: 1, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  const p1 = assign('t', 1)
  assert.equal(budget.limit(p0.key, 500), 500)
  p1.progress.allowance = 7
  assert.equal(budget.limit(p1.key, 500), 7)
  budget.endTake()
})

test("admitted units count as in flight and hold their topic's budget; each topic has its own", () => {
  const { budget, assign, unit } = setup('continuous', [
    { name: 'a', processing: { capacity: 4, ordering: 'unordered' } },
    { name: 'b', processing: { capacity: 5, ordering: 'unordered' } },
  ])
  const a0 = assign('a', 0)
  const a1 = assign('a', 1)
  const b0 = assign('b', 0)
  budget.admit(unit(a0))
  budget.admit(unit(a0, 3))
  assert.equal(budget.inFlight, 4, 'a batch unit counts its records')
  assert.equal(a0.inFlight, 4)
  assert.equal(a0.takenAt.size, 2, 'when each unit was taken (health)')
  assert.equal(a0.load.active, 4)
  assert.equal(budget.free(), 5, "only topic b's budget is free")
  assert.equal(budget.limit(a1.key, 10), 0, 'topic a is full')
  assert.equal(budget.limit(b0.key, 10), 5)
  budget.endTake()
})

test('a parked unit holds no topic budget and wakes the loop; running again it holds its budget again', async () => {
  const { budget, assign, unit } = setup('continuous', [
    { name: 't', processing: { capacity: 1, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  const p1 = assign('t', 1)
  const u = unit(p0)
  budget.admit(u)
  assert.equal(budget.limit(p1.key, 5), 0)
  assert.equal(await woken(budget), false, 'admitting does not wake')
  budget.parked(u, true)
  assert.equal(await woken(budget), true, 'parking frees budget: the loop is woken')
  budget.parked(u, true)
  assert.equal(p0.parked, 1, 'parked once, however often told')
  assert.equal(p0.load.active, 0)
  assert.equal(budget.inFlight, 1, 'a parked record is still in flight')
  assert.equal(budget.free(), 1)
  assert.equal(budget.limit(p1.key, 5), 1, 'another partition takes the freed budget')
  budget.endTake()
  budget.parked(u, false)
  assert.equal(await woken(budget), false, 'running again does not wake')
  assert.equal(p0.parked, 0)
  assert.equal(p0.load.active, 1)
})

test(`parked records are bounded per partition: ${PARKED_FACTOR} × its take limit in all`, () => {
  const { budget, assign, unit } = setup('continuous', [
    { name: 't', processing: { capacity: 2, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  const p1 = assign('t', 1)
  const bound = 2 * PARKED_FACTOR
  const units: WorkUnit[] = []
  for (let i = 0; i < bound - 1; i++) {
    const u = unit(p0)
    budget.admit(u)
    budget.parked(u, true)
    units.push(u)
  }
  assert.equal(budget.limit(p0.key, 5), 1, 'one record short of the bound')
  budget.endTake()
  const last = unit(p0)
  budget.admit(last)
  budget.parked(last, true)
  assert.equal(budget.limit(p0.key, 5), 0, `${bound} records held: the partition takes no more`)
  assert.equal(budget.limit(p1.key, 5), 2, 'other partitions go on')
  budget.endTake()
  budget.release(units[0]!)
  assert.equal(budget.limit(p0.key, 5), 1, 'a release makes room again')
  budget.endTake()
})

test('a release counts once; the run whose last record leaves is told, and its idle signal fires', async () => {
  const { budget, assign, unit, drained } = setup('continuous', [
    { name: 't', processing: { capacity: 4, ordering: 'unordered' } },
  ])
  const p0 = assign('t', 0)
  const first = unit(p0)
  const second = unit(p0, 2)
  budget.admit(first)
  budget.admit(second)
  budget.parked(second, true)
  budget.release(first)
  assert.equal(await woken(budget), true, 'a release wakes the loop')
  budget.release(first)
  assert.equal(budget.inFlight, 2, 'released once, however often told')
  assert.equal(p0.load.active, 0)
  assert.deepEqual(drained, [], 'records of the run are still in flight')
  const idle = p0.idle.wait()
  assert.equal(await settled(idle), false)
  budget.release(second)
  assert.equal(await settled(idle), true, 'the run is idle')
  assert.deepEqual(drained, [p0], 'its last record left')
  assert.equal(budget.inFlight, 0)
  assert.equal(p0.inFlight, 0)
  assert.equal(p0.parked, 0, 'a parked unit released leaves the parked count')
  assert.equal(p0.load.active, 0, 'and never held the topic budget')
  assert.equal(second.parked, false)
  assert.equal(p0.takenAt.size, 0)
})

test('the capacity signal: a wake is kept until the next wait, once', async () => {
  const { budget } = setup('continuous', [{ name: 't', processing: { capacity: 1 } }])
  assert.equal(await woken(budget), false, 'nothing happened yet')
  budget.wake()
  budget.wake()
  assert.equal(await woken(budget), true)
  assert.equal(await woken(budget), false, 'one wait consumes it')
})
