import type { KafkaCluster } from '../../kafka/cluster.ts'
import { describeGroupConfigs } from '../../kafka/group-configs.ts'

/** Where a group config read failed (the member keeps what it had). */
export type SettingsWarning = (error: Error) => void

/**
 * The share group's configs a member follows (group configs, Kafka ≥ 4.3), read with
 * DescribeConfigs on the group: at start, and the delivery count limit again whenever a release
 * is decided (it may change while the member runs). A read that fails keeps the last values.
 */
export class ShareGroupSettings {
  /** `share.partition.max.record.locks`, unless the member set its own budget. */
  lockBudget: number
  /** `share.renew.acknowledge.enable` (true unless the group says "false"). */
  renewEnabled = true
  /** `share.delivery.count.limit` as last read; undefined when never read. */
  deliveryCountLimit: number | undefined
  readonly #cluster: KafkaCluster
  readonly #groupId: string
  readonly #budgetFixed: boolean
  readonly #warn: SettingsWarning
  #readingLimit: Promise<number | undefined> | undefined
  /**
   * The last read failed: reported once, not again until a read succeeds (a member not allowed
   * to read group configs would otherwise report it at every release decision).
   */
  #failing = false

  constructor(
    cluster: KafkaCluster,
    groupId: string,
    lockBudget: { value: number; fixed: boolean },
    warn: SettingsWarning,
  ) {
    this.#cluster = cluster
    this.#groupId = groupId
    this.lockBudget = lockBudget.value
    this.#budgetFixed = lockBudget.fixed
    this.#warn = warn
  }

  /** Reads every setting (at start). Not allowed to read group configs: the defaults stay. */
  async read(): Promise<void> {
    try {
      const configs = await describeGroupConfigs(this.#cluster, this.#groupId)
      const budget = Number(configs.get('share.partition.max.record.locks'))
      if (!this.#budgetFixed && Number.isInteger(budget) && budget > 0) this.lockBudget = budget
      this.renewEnabled = configs.get('share.renew.acknowledge.enable') !== 'false'
      this.#limitFrom(configs)
    } catch (error) {
      this.#failed(error as Error)
    }
  }

  /**
   * The delivery count limit as the broker has it now (one DescribeConfigs; concurrent calls
   * share it). Falls back to the last value read when the broker does not answer.
   */
  currentDeliveryCountLimit(): Promise<number | undefined> {
    this.#readingLimit ??= (async () => {
      try {
        this.#limitFrom(await describeGroupConfigs(this.#cluster, this.#groupId))
      } catch (error) {
        this.#failed(error as Error)
      } finally {
        this.#readingLimit = undefined
      }
      return this.deliveryCountLimit
    })()
    return this.#readingLimit
  }

  #failed(error: Error): void {
    if (this.#failing) return
    this.#failing = true
    this.#warn(error)
  }

  #limitFrom(configs: ReadonlyMap<string, string>): void {
    this.#failing = false
    const limit = Number(configs.get('share.delivery.count.limit'))
    if (Number.isInteger(limit) && limit > 0) this.deliveryCountLimit = limit
  }
}
