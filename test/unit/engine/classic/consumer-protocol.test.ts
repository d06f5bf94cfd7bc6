// The consumer protocol's subscription and assignment bytes are Kafka's (ConsumerProtocolSubscription
// and ConsumerProtocolAssignment v0–v3, int16 version header, sorted topics and partitions), decode
// what Java, librdkafka and KafkaJS members write — newer versions with extra fields, older bodies
// under newer headers — and refuse bytes cut inside a field with a typed error, never a short read.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  type ConsumerProtocolSubscription,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../../src/engine/classic/consumer-protocol.ts'
import { ClassicProtocolError } from '../../../../src/engine/classic/errors.ts'
import { MultilaneError } from '../../../../src/errors.ts'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const str = (s: string) =>
  `${Buffer.byteLength(s).toString(16).padStart(4, '0')}${Buffer.from(s).toString('hex')}`

function isMalformed(error: unknown): boolean {
  return (
    error instanceof ClassicProtocolError &&
    error instanceof MultilaneError &&
    error.code === 'CONSUMER_PROTOCOL_MALFORMED'
  )
}

const full: Omit<ConsumerProtocolSubscription, 'version'> = {
  topics: ['b', 'a'],
  userData: Buffer.from([0xff, 0xff, 0xff, 0xff]),
  ownedPartitions: [
    { topic: 'b', partitions: [2, 0] },
    { topic: 'a', partitions: [1] },
  ],
  generationId: 7,
  rackId: 'r1',
}

describe('ConsumerProtocolSubscription', () => {
  test('v3 bytes: version, sorted topics, nullable user_data, sorted owned_partitions, generation_id, rack_id', () => {
    const expected = hex(`
      0003
      00000002 ${str('a')} ${str('b')}
      00000004 ffffffff
      00000002 ${str('a')} 00000001 00000001
               ${str('b')} 00000002 00000000 00000002
      00000007
      ${str('r1')}`)
    assert.deepEqual(encodeSubscription(full), expected)
  })

  test('each version writes only its fields (v0 topics+user_data, v1 +owned, v2 +generation, v3 +rack)', () => {
    const v0 = hex(`0000 00000002 ${str('a')} ${str('b')} 00000004 ffffffff`)
    assert.deepEqual(encodeSubscription({ ...full, version: 0 }), v0)
    const owned = `00000002 ${str('a')} 00000001 00000001 ${str('b')} 00000002 00000000 00000002`
    assert.deepEqual(
      encodeSubscription({ ...full, version: 1 }),
      Buffer.concat([hex('0001'), v0.subarray(2), hex(owned)]),
    )
    assert.deepEqual(
      encodeSubscription({ ...full, version: 2 }),
      Buffer.concat([hex('0002'), v0.subarray(2), hex(owned), hex('00000007')]),
    )
  })

  test('null user_data and rack_id are written as -1 lengths', () => {
    const bytes = encodeSubscription({
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    })
    assert.deepEqual(bytes, hex(`0003 00000001 ${str('t')} ffffffff 00000000 ffffffff ffff`))
    const decoded = decodeSubscription(bytes)
    assert.equal(decoded.userData, null)
    assert.equal(decoded.rackId, null)
    assert.equal(decoded.generationId, -1)
  })

  test('every version round-trips; fields the version lacks decode to their defaults', () => {
    for (const version of [0, 1, 2, 3]) {
      const decoded = decodeSubscription(encodeSubscription({ ...full, version }))
      assert.equal(decoded.version, version)
      assert.deepEqual(decoded.topics, ['a', 'b'])
      assert.deepEqual(decoded.userData, full.userData)
      assert.deepEqual(
        decoded.ownedPartitions,
        version >= 1
          ? [
              { topic: 'a', partitions: [1] },
              { topic: 'b', partitions: [0, 2] },
            ]
          : [],
      )
      assert.equal(decoded.generationId, version >= 2 ? 7 : -1)
      assert.equal(decoded.rackId, version >= 3 ? 'r1' : null)
    }
  })

  test('a future version is read with the v3 layout and its extra fields are ignored (as Java does)', () => {
    // Kafka's ConsumerProtocolTest.deserializeFutureSubscriptionVersion: version 100 with a
    // trailing STRING field "bar".
    const v100 = hex(`
      0064
      00000001 ${str('topic')}
      00000000
      00000001 ${str('topic')} 00000001 00000001
      00000003
      ${str('rack1')}
      ${str('bar')}`)
    const decoded = decodeSubscription(v100)
    assert.equal(decoded.version, 100)
    assert.deepEqual(decoded.topics, ['topic'])
    assert.deepEqual(decoded.userData, Buffer.alloc(0))
    assert.deepEqual(decoded.ownedPartitions, [{ topic: 'topic', partitions: [1] }])
    assert.equal(decoded.generationId, 3)
    assert.equal(decoded.rackId, 'rack1')
  })

  test('a newer header over an older body (KafkaJS writes v1 with a v0 body) takes the defaults', () => {
    const decoded = decodeSubscription(hex(`0001 00000001 ${str('t')} ffffffff`))
    assert.deepEqual(decoded.ownedPartitions, [])
    assert.equal(decoded.generationId, -1)
    const v3OverV1 = decodeSubscription(hex(`0003 00000001 ${str('t')} ffffffff 00000000`))
    assert.equal(v3OverV1.generationId, -1)
    assert.equal(v3OverV1.rackId, null)
  })

  test('bytes cut inside any field are refused with CONSUMER_PROTOCOL_MALFORMED naming the field', () => {
    const bytes = encodeSubscription(full)
    // Field boundaries where v1+ fields may legitimately be absent: after user_data, owned, generation.
    const v0End = 2 + 4 + 3 + 3 + 8
    const ownedEnd = v0End + 4 + 3 + 8 + 3 + 12
    const boundaries = new Set([v0End, ownedEnd, ownedEnd + 4, bytes.length])
    for (let cut = 0; cut < bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut)
      if (boundaries.has(cut)) {
        assert.doesNotThrow(() => decodeSubscription(prefix), `cut at ${cut} is a field boundary`)
      } else {
        assert.throws(() => decodeSubscription(prefix), isMalformed, `cut at ${cut}`)
      }
    }
    assert.throws(
      () => decodeSubscription(bytes.subarray(0, 7)),
      /malformed ConsumerProtocolSubscription: topics/,
    )
  })

  test('negative or impossible lengths and counts are refused before anything is allocated', () => {
    assert.throws(() => decodeSubscription(hex('0003 ffffffff')), isMalformed) // topics count -1
    assert.throws(() => decodeSubscription(hex('0003 7fffffff 0001 61')), /count 2147483647 does not fit/)
    assert.throws(() => decodeSubscription(hex('0003 00000001 fffe')), /negative length -2/)
    assert.throws(
      () => decodeSubscription(hex('0003 00000001 ffff ffffffff')),
      /null where the schema allows none/,
    )
    assert.throws(() => decodeSubscription(hex(`0003 00000000 fffffffe`)), /user_data: negative length -2/)
    assert.throws(() => decodeSubscription(hex('ffff 00000000 ffffffff')), /unsupported version -1/)
  })

  test('encoding refuses a version outside 0–3', () => {
    assert.throws(() => encodeSubscription({ ...full, version: 4 }), RangeError)
    assert.throws(() => encodeAssignment({ assignedPartitions: [], userData: null, version: -1 }), RangeError)
  })

  test('any subscription round-trips at v3 (topics deduplicated and sorted)', () => {
    const topicName = fc.string({ minLength: 1, maxLength: 12 })
    fc.assert(
      fc.property(
        fc.uniqueArray(topicName, { maxLength: 5 }),
        fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
        fc.dictionary(topicName, fc.uniqueArray(fc.nat(1000), { maxLength: 5 }), { maxKeys: 4 }),
        fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        fc.option(topicName, { nil: null }),
        (topics, userData, owned, generationId, rackId) => {
          const ownedPartitions = Object.entries(owned)
            .filter(([, p]) => p.length > 0)
            .map(([topic, partitions]) => ({ topic, partitions }))
          const decoded = decodeSubscription(
            encodeSubscription({
              topics,
              userData: userData && Buffer.from(userData),
              ownedPartitions,
              generationId,
              rackId,
            }),
          )
          assert.deepEqual(decoded.topics, [...topics].sort())
          assert.deepEqual(decoded.userData, userData && Buffer.from(userData))
          assert.deepEqual(
            decoded.ownedPartitions,
            ownedPartitions
              .map(({ topic, partitions }) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
              .sort((a, b) => (a.topic < b.topic ? -1 : 1)),
          )
          assert.equal(decoded.generationId, generationId)
          assert.equal(decoded.rackId, rackId)
        },
      ),
    )
  })
})

describe('ConsumerProtocolAssignment', () => {
  test('v3 bytes: version, sorted assigned_partitions, user_data', () => {
    const bytes = encodeAssignment({
      assignedPartitions: [
        { topic: 'b', partitions: [1] },
        { topic: 'a', partitions: [3, 0] },
      ],
      userData: null,
    })
    assert.deepEqual(
      bytes,
      hex(`0003 00000002 ${str('a')} 00000002 00000000 00000003 ${str('b')} 00000001 00000001 ffffffff`),
    )
  })

  test('every version round-trips with the same layout', () => {
    for (const version of [0, 1, 2, 3]) {
      const decoded = decodeAssignment(
        encodeAssignment({
          version,
          assignedPartitions: [{ topic: 't', partitions: [0] }],
          userData: Buffer.from('hi'),
        }),
      )
      assert.deepEqual(decoded, {
        version,
        assignedPartitions: [{ topic: 't', partitions: [0] }],
        userData: Buffer.from('hi'),
      })
    }
  })

  test('a future version with a trailing field decodes (Kafka ConsumerProtocolTest.deserializeFutureAssignmentVersion)', () => {
    const v100 = hex(`0064 00000001 ${str('topic')} 00000001 00000000 00000000 ${str('bar')}`)
    const decoded = decodeAssignment(v100)
    assert.deepEqual(decoded.assignedPartitions, [{ topic: 'topic', partitions: [0] }])
    assert.deepEqual(decoded.userData, Buffer.alloc(0))
  })

  test('empty bytes are an empty assignment (what the coordinator sends a member the leader left out)', () => {
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), {
      version: 0,
      assignedPartitions: [],
      userData: null,
    })
  })

  test('bytes cut inside a field are refused; user_data missing as a whole reads as null', () => {
    const bytes = encodeAssignment({
      assignedPartitions: [{ topic: 'topic', partitions: [0, 1] }],
      userData: Buffer.from('x'),
    })
    const partitionsEnd = 2 + 4 + 7 + 4 + 8
    for (let cut = 1; cut < bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut)
      if (cut === partitionsEnd) assert.equal(decodeAssignment(prefix).userData, null)
      else assert.throws(() => decodeAssignment(prefix), isMalformed, `cut at ${cut}`)
    }
  })
})
