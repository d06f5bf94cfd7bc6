// The chaos checker's verdict from hand-made logs: a record on the topic that no handler finished
// is lost; a record handled again counts as a duplicate, charged to the process that had it
// before, and a killed process's duplicates must stay within what it had in flight plus what it
// finished since its last commit (never a record below that commit); per key, first deliveries
// follow the log order; every segment group is committed at the log end. Also the parsers of
// the workers' JSON lines and of Kafka's ConsumerGroupCommand and ConsoleConsumer output.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type CheckInput,
  type Commit,
  check,
  type Delivery,
  type GroupOffset,
  type TopicRecord,
} from '../../../chaos/checker.ts'
import { parseConsoleRecords, parseGroupDescribe, parseWorkerLog } from '../../../chaos/logs.ts'

const GROUP = 'g-parallel-0'

/** Records 0..n-1 of partition 0, key `k`, seq = offset. */
function records(n: number, key = 'k', partition = 0): TopicRecord[] {
  return Array.from({ length: n }, (_, offset) => ({
    partition,
    offset,
    key,
    id: `${key}-${offset}`,
    seq: offset,
  }))
}

/** A start and a finish of `offset` by `pid` at time `t` (finish at t + 0.5). */
function handled(pid: number, offset: number, t: number, partition = 0): Delivery[] {
  const base = { pid, worker: 0, group: GROUP, segment: 0, partition, offset, attempt: 1, deliveryCount: 1 }
  return [
    { ...base, kind: 'start', t },
    { ...base, kind: 'finish', t: t + 0.5 },
  ]
}

function started(pid: number, offset: number, t: number): Delivery {
  return {
    kind: 'start',
    t,
    pid,
    worker: 0,
    group: GROUP,
    segment: 0,
    partition: 0,
    offset,
    attempt: 1,
    deliveryCount: 1,
  }
}

function commit(pid: number, offset: number, t: number): Commit {
  return { t, pid, group: GROUP, partition: 0, offset }
}

function atEnd(n: number): GroupOffset[] {
  return [{ group: GROUP, partition: 0, committed: n, logEnd: n }]
}

function input(overrides: Partial<CheckInput>): CheckInput {
  const topicRecords = overrides.topicRecords ?? records(3)
  return {
    partitions: 1,
    groups: [GROUP],
    acknowledged: topicRecords.map((r) => r.id),
    topicRecords,
    deliveries: [],
    commits: [],
    ends: [],
    offsets: atEnd(topicRecords.length),
    ...overrides,
  }
}

describe('lost records', () => {
  it('every record handled once: nothing lost, no duplicates, ok', () => {
    const result = check(input({ deliveries: [0, 1, 2].flatMap((o) => handled(100, o, 10 + o)) }))
    assert.equal(result.lost.length, 0)
    assert.equal(result.duplicates, 0)
    assert.equal(result.handled, 3)
    assert.deepEqual(result.problems, [])
    assert.equal(result.ok, true)
  })

  it('a record never handled is lost', () => {
    const result = check(input({ deliveries: [0, 2].flatMap((o) => handled(100, o, 10 + o)) }))
    assert.deepEqual(result.lost, [{ partition: 0, offset: 1, id: 'k-1' }])
    assert.equal(result.ok, false)
    assert.match(result.problems.join('\n'), /1 records lost/)
  })

  it('a record started but never finished (its worker killed, never redelivered) is lost', () => {
    const result = check(
      input({
        deliveries: [...handled(100, 0, 10), started(100, 1, 11), ...handled(101, 2, 20)],
        ends: [{ pid: 100, worker: 0, t: 12, cause: 'kill' }],
      }),
    )
    assert.deepEqual(
      result.lost.map((l) => l.offset),
      [1],
    )
    assert.equal(result.ok, false)
  })

  it('an acknowledged write missing from the topic is reported', () => {
    const result = check(
      input({
        acknowledged: ['k-0', 'k-1', 'k-2', 'k-3'],
        deliveries: [0, 1, 2].flatMap((o) => handled(100, o, 10 + o)),
      }),
    )
    assert.deepEqual(result.acknowledgedMissing, ['k-3'])
    assert.equal(result.ok, false)
  })

  it('a payload written twice (a retried send) is two records, each to handle', () => {
    const topicRecords = [...records(2), { partition: 0, offset: 2, key: 'k', id: 'k-1', seq: 1 }]
    const result = check(input({ topicRecords, deliveries: [0, 1].flatMap((o) => handled(100, o, 10 + o)) }))
    assert.equal(result.producerDuplicates, 1)
    assert.deepEqual(
      result.lost.map((l) => l.offset),
      [2],
    )
  })
})

describe('duplicates and the per-kill bound', () => {
  // pid 100 handles 0..5, commits 3 (0..2 done), has 3 and 4 finished and 5 in flight when killed;
  // pid 101 resumes from 3.
  const before = [...[0, 1, 2, 3, 4].flatMap((o) => handled(100, o, 10 + o)), started(100, 5, 15)]
  const commits = [commit(100, 3, 13.2)]
  const kill = { pid: 100, worker: 0, t: 16, cause: 'kill' as const }

  it('records redelivered after a kill are duplicates within in flight + finished since the last commit', () => {
    const result = check(
      input({
        topicRecords: records(6),
        deliveries: [...before, ...[3, 4, 5].flatMap((o) => handled(101, o, 30 + o))],
        commits,
        ends: [kill],
        offsets: atEnd(6),
      }),
    )
    assert.equal(result.duplicates, 3)
    assert.equal(result.deliveries, 9)
    const killed = result.processes.find((p) => p.pid === 100)!
    assert.equal(killed.cause, 'kill')
    assert.equal(killed.inFlight, 1)
    assert.equal(killed.finishedSinceCommit, 2)
    assert.equal(killed.bound, 3)
    assert.equal(killed.duplicates, 3)
    assert.equal(killed.withinBound, true)
    assert.equal(result.killBound, 3)
    assert.equal(result.killDuplicates, 3)
    assert.deepEqual(result.problems, [])
  })

  it('a committed record handled again after the kill breaks the bound', () => {
    const result = check(
      input({
        topicRecords: records(6),
        deliveries: [...before, ...[2, 3, 4, 5].flatMap((o) => handled(101, o, 30 + o))],
        commits,
        ends: [kill],
        offsets: atEnd(6),
      }),
    )
    const killed = result.processes.find((p) => p.pid === 100)!
    assert.equal(killed.duplicates, 4)
    assert.equal(killed.outsideBound, 1)
    assert.equal(killed.withinBound, false)
    assert.equal(result.ok, false)
    assert.match(
      result.problems.join('\n'),
      /killed worker 0 \(pid 100\): 4 duplicates, bound 3.*1 of them below its last commit/,
    )
  })

  it('a commit past a record still in flight at the kill is reported', () => {
    const result = check(
      input({
        topicRecords: records(6),
        deliveries: [...before, ...[5].flatMap((o) => handled(101, o, 30 + o))],
        commits: [commit(100, 6, 15.5)],
        ends: [kill],
        offsets: atEnd(6),
      }),
    )
    const killed = result.processes.find((p) => p.pid === 100)!
    assert.equal(killed.committedPastUnfinished, 1)
    assert.equal(killed.withinBound, false)
    assert.match(result.problems.join('\n'), /a commit passed 1 unfinished records/)
  })

  it('a process that never committed has everything it handled in its bound', () => {
    const result = check(
      input({
        topicRecords: records(3),
        deliveries: [
          ...[0, 1, 2].flatMap((o) => handled(100, o, 10 + o)),
          ...[0, 1, 2].flatMap((o) => handled(101, o, 30 + o)),
        ],
        ends: [kill],
      }),
    )
    const killed = result.processes.find((p) => p.pid === 100)!
    assert.equal(killed.bound, 3)
    assert.equal(killed.duplicates, 3)
    assert.equal(killed.withinBound, true)
  })

  it('a record handled twice by a process that was not killed is charged to it and judged as of the redelivery', () => {
    const result = check(
      input({
        topicRecords: records(2),
        deliveries: [...handled(100, 0, 10), ...handled(100, 1, 11), ...handled(101, 1, 20)],
        commits: [commit(100, 2, 12)],
      }),
    )
    const live = result.processes.find((p) => p.pid === 100)!
    assert.equal(live.cause, 'none')
    assert.equal(live.duplicates, 1)
    assert.equal(live.outsideBound, 1)
    assert.equal(result.ok, false)
    assert.match(result.problems.join('\n'), /live worker 0 \(pid 100\)/)
  })

  it('a third delivery is charged to the process of the second', () => {
    const result = check(
      input({
        topicRecords: records(1),
        deliveries: [started(100, 0, 10), started(101, 0, 20), ...handled(102, 0, 30)],
        ends: [
          { pid: 100, worker: 0, t: 11, cause: 'kill' },
          { pid: 101, worker: 0, t: 21, cause: 'kill' },
        ],
      }),
    )
    assert.equal(result.duplicates, 2)
    assert.deepEqual(
      result.processes.map((p) => [p.pid, p.duplicates, p.inFlight, p.withinBound]),
      [
        [100, 1, 1, true],
        [101, 1, 1, true],
      ],
    )
  })
})

describe('per-key order of first deliveries', () => {
  it('a later record of a key first handled before an earlier one is an order violation', () => {
    const result = check(
      input({ deliveries: [...handled(100, 0, 10), ...handled(100, 2, 11), ...handled(100, 1, 12)] }),
    )
    assert.equal(result.orderViolations.length, 1)
    assert.deepEqual(result.orderViolations[0]!.earlier.offset, 1)
    assert.deepEqual(result.orderViolations[0]!.later.offset, 2)
    assert.equal(result.ok, false)
  })

  it('redeliveries do not count: only each record first start', () => {
    const result = check(
      input({
        deliveries: [
          ...[0, 1, 2].flatMap((o) => handled(100, o, 10 + o)),
          ...handled(101, 1, 30),
          ...handled(101, 0, 31),
        ],
        commits: [commit(100, 0, 9)],
        ends: [{ pid: 100, worker: 0, t: 20, cause: 'kill' }],
      }),
    )
    assert.equal(result.orderViolations.length, 0)
  })

  it('keys are independent', () => {
    const topicRecords = [
      { partition: 0, offset: 0, key: 'a', id: 'a-0', seq: 0 },
      { partition: 0, offset: 1, key: 'b', id: 'b-0', seq: 0 },
      { partition: 0, offset: 2, key: 'a', id: 'a-1', seq: 1 },
    ]
    const result = check(
      input({
        topicRecords,
        deliveries: [...handled(100, 1, 10), ...handled(100, 0, 11), ...handled(100, 2, 12)],
      }),
    )
    assert.equal(result.orderViolations.length, 0)
  })
})

describe('committed offsets', () => {
  it('a group-partition behind the log end, or missing from the tool output, is reported', () => {
    const result = check(
      input({
        partitions: 2,
        groups: [GROUP, 'g-parallel-1'],
        deliveries: [0, 1, 2].flatMap((o) => handled(100, o, 10 + o)),
        offsets: [
          { group: GROUP, partition: 0, committed: 3, logEnd: 3 },
          { group: GROUP, partition: 1, committed: 0, logEnd: 0 },
          { group: 'g-parallel-1', partition: 0, committed: 2, logEnd: 3 },
        ],
      }),
    )
    assert.deepEqual(result.notAtLogEnd, [
      { group: 'g-parallel-1', partition: 0, committed: 2, logEnd: 3 },
      { group: 'g-parallel-1', partition: 1, committed: null, logEnd: null },
    ])
    assert.equal(result.ok, false)
  })

  it('a record handled by two groups is reported (each record has one segment)', () => {
    const other = handled(100, 1, 11).map((d) => ({ ...d, group: 'g-parallel-1' }))
    const result = check(
      input({
        deliveries: [...handled(100, 0, 10), ...other, ...handled(100, 1, 12), ...handled(100, 2, 13)],
      }),
    )
    assert.deepEqual(result.multiGroup, [{ partition: 0, offset: 1, groups: [GROUP, 'g-parallel-1'] }])
  })
})

describe('parsers', () => {
  it('worker log lines: starts, finishes and commits; a line cut by a SIGKILL is counted as malformed', () => {
    const text = [
      '{"e":"s","g":"g-parallel-0","seg":0,"p":3,"o":17,"a":1,"dc":1,"id":"k1-4","t":1000.5,"pid":42,"w":0}',
      '{"e":"assigned","g":"g-parallel-0","p":[0,1],"t":999,"pid":42,"w":0}',
      '{"e":"f","g":"g-parallel-0","seg":0,"p":3,"o":17,"a":1,"dc":1,"id":"k1-4","t":1002.25,"pid":42,"w":0}',
      '{"e":"c","g":"g-parallel-0","p":3,"o":18,"t":1003,"pid":42,"w":0}',
      '{"e":"s","g":"g-parallel-0","seg":0,"p":3,"o":18,"a":1,"d',
      '',
    ].join('\n')
    const log = parseWorkerLog(text)
    assert.deepEqual(log.deliveries, [
      {
        kind: 'start',
        t: 1000.5,
        pid: 42,
        worker: 0,
        group: 'g-parallel-0',
        segment: 0,
        partition: 3,
        offset: 17,
        attempt: 1,
        deliveryCount: 1,
      },
      {
        kind: 'finish',
        t: 1002.25,
        pid: 42,
        worker: 0,
        group: 'g-parallel-0',
        segment: 0,
        partition: 3,
        offset: 17,
        attempt: 1,
        deliveryCount: 1,
      },
    ])
    assert.deepEqual(log.commits, [{ t: 1003, pid: 42, group: 'g-parallel-0', partition: 3, offset: 18 }])
    assert.equal(log.malformed, 1)
  })

  it("ConsumerGroupCommand --describe: rows of the topic, '-' as nothing committed, notes passed over", () => {
    const output = [
      '',
      "Consumer group 'g-parallel-0' has no active members.",
      '',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
      'g-parallel-0    t               0          120             120             0               -               -               -',
      'g-parallel-0    t               1          -               7               -               -               -               -',
      'g-parallel-0    other           0          5               5               0               -               -               -',
      '',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
      'g-parallel-1    t               0          119             120             1               -               -               -',
    ].join('\n')
    assert.deepEqual(parseGroupDescribe(output, 't'), [
      { group: 'g-parallel-0', partition: 0, committed: 120, logEnd: 120 },
      { group: 'g-parallel-0', partition: 1, committed: null, logEnd: 7 },
      { group: 'g-parallel-1', partition: 0, committed: 119, logEnd: 120 },
    ])
  })

  it('ConsoleConsumer with print.partition, print.offset and print.key', () => {
    const output = [
      'Partition:4\tOffset:0\tk1\t{"key":"k1","seq":0,"id":"k1-0"}',
      'Partition:0\tOffset:12\tk7\t{"key":"k7","seq":3,"id":"k7-3"}',
      'Processed a total of 2 messages',
    ].join('\n')
    const { records, unreadable } = parseConsoleRecords(output)
    assert.deepEqual(records, [
      { partition: 4, offset: 0, key: 'k1', id: 'k1-0', seq: 0 },
      { partition: 0, offset: 12, key: 'k7', id: 'k7-3', seq: 3 },
    ])
    assert.deepEqual(unreadable, ['Processed a total of 2 messages'])
  })
})
