import type { AcknowledgementBatch } from '../../kafka/apis/share-common.ts'
import { ACKNOWLEDGE_TYPE } from '../../kafka/apis/share-common.ts'
import type { AcknowledgeType } from './types.ts'

/** Wire value of an acknowledge type. */
export function wireType(type: AcknowledgeType): number {
  switch (type) {
    case 'accept':
      return ACKNOWLEDGE_TYPE.ACCEPT
    case 'release':
      return ACKNOWLEDGE_TYPE.RELEASE
    case 'reject':
      return ACKNOWLEDGE_TYPE.REJECT
    case 'renew':
      return ACKNOWLEDGE_TYPE.RENEW
  }
}

/** One offset and its wire acknowledge type. */
export interface OffsetAck {
  offset: number
  type: number
}

/**
 * Encodes acknowledgements as AcknowledgementBatches: offsets sorted, one batch per run of
 * consecutive offsets, a run with a single type sent as one type for the whole range (the
 * common case: a run of accepts costs 17 bytes whatever its length), a mixed run as one type
 * per offset. The broker applies one partition's batches all or none.
 */
export function toAcknowledgementBatches(acks: readonly OffsetAck[]): AcknowledgementBatch[] {
  return encodeBatches(acks, (a) => a.type)
}

/**
 * {@link toAcknowledgementBatches} over any items with an offset, `typeOf` giving each one's
 * wire type: a request's acknowledgements are encoded as they are queued, with no object per
 * record on the way (a request carries hundreds).
 */
export function encodeBatches<T extends { readonly offset: number }>(
  acks: readonly T[],
  typeOf: (ack: T) => number,
): AcknowledgementBatch[] {
  const sorted = [...acks].sort((a, b) => a.offset - b.offset)
  const batches: AcknowledgementBatch[] = []
  let i = 0
  while (i < sorted.length) {
    const first = typeOf(sorted[i]!)
    let j = i + 1
    let single = true
    while (j < sorted.length && sorted[j]!.offset === sorted[j - 1]!.offset + 1) {
      if (single && typeOf(sorted[j]!) !== first) single = false
      j++
    }
    const types: number[] = [first]
    if (!single) for (let k = i + 1; k < j; k++) types.push(typeOf(sorted[k]!))
    batches.push({
      firstOffset: BigInt(sorted[i]!.offset),
      lastOffset: BigInt(sorted[j - 1]!.offset),
      acknowledgeTypes: types,
    })
    i = j
  }
  return batches
}
