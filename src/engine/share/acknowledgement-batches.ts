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
  const sorted = [...acks].sort((a, b) => a.offset - b.offset)
  const batches: AcknowledgementBatch[] = []
  let i = 0
  while (i < sorted.length) {
    let j = i + 1
    let single = true
    while (j < sorted.length && sorted[j]!.offset === sorted[j - 1]!.offset + 1) {
      if (sorted[j]!.type !== sorted[i]!.type) single = false
      j++
    }
    const run = sorted.slice(i, j)
    batches.push({
      firstOffset: BigInt(run[0]!.offset),
      lastOffset: BigInt(run[run.length - 1]!.offset),
      acknowledgeTypes: single ? [run[0]!.type] : run.map((a) => a.type),
    })
    i = j
  }
  return batches
}
