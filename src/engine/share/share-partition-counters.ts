import type { AcknowledgeType } from './types.ts'

/** Counters for statistics; they only grow. */
export interface SharePartitionCounters {
  acquired: number
  delivered: number
  accepted: number
  released: number
  rejected: number
  renewed: number
  gaps: number
  lockLost: number
  failed: number
}

/** All counters at zero. */
export function newCounters(): SharePartitionCounters {
  return {
    acquired: 0,
    delivered: 0,
    accepted: 0,
    released: 0,
    rejected: 0,
    renewed: 0,
    gaps: 0,
    lockLost: 0,
    failed: 0,
  }
}

/** Counts an acknowledgement the broker applied. */
export function countAcknowledged(counters: SharePartitionCounters, type: AcknowledgeType | 'gap'): void {
  if (type === 'accept') counters.accepted++
  else if (type === 'release') counters.released++
  else if (type === 'reject') counters.rejected++
  else if (type === 'renew') counters.renewed++
}
