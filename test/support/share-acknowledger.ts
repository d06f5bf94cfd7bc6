// A ShareAcknowledger (share progress's view of the share member) built from a function that
// answers with a promise: fakes answer with promises (at once or when the test says); the
// listener is told when the promise settles, never from inside the acknowledge call (as the
// member does).
import type { AcknowledgeType, AckResult, RecordDelivery } from '../../src/engine/share/types.ts'
import type { ShareAcknowledger } from '../../src/processing/share-group/progress.ts'

export interface PromisedAcknowledger {
  acknowledge(delivery: RecordDelivery, type: AcknowledgeType): Promise<AckResult>
  flush(): Promise<void>
}

export function promised(member: PromisedAcknowledger): ShareAcknowledger {
  return {
    acknowledge: (delivery, type, listener) => {
      void member.acknowledge(delivery, type).then((result) => listener.acknowledged(result))
    },
    flush: () => member.flush(),
  }
}
