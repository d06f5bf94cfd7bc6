// What the app's start does against the cluster before its members join: dead letter topics
// must exist, and share group settings that live on the broker are applied.
import { setTimeout as sleep } from 'node:timers/promises'
import { MultilaneError } from '../errors.ts'
import { KafkaCluster } from '../kafka/cluster.ts'
import { resolveConnection } from '../kafka/connection-options.ts'
import { alterGroupConfigs } from '../kafka/group-configs.ts'
import type { AppDefinition } from './definition.ts'

/** How long the start check waits for a dead letter topic to appear in the metadata. */
const DEAD_LETTER_TOPIC_WAIT_MS = 5000

/** Dead letter topics must exist: a produce to a missing one would only time out, record after record. */
export async function checkDeadLetterTopics(definition: AppDefinition): Promise<void> {
  const wanted = new Map<string, string[]>()
  for (const group of [...definition.consumerGroups, ...definition.shareGroups]) {
    for (const topic of group.topics) {
      const dlq = topic.deadLetterQueue?.topic
      if (dlq)
        wanted.set(dlq, [...(wanted.get(dlq) ?? []), `consumerGroup "${group.name}" › topic "${topic.name}"`])
    }
  }
  if (wanted.size === 0) return
  const cluster = new KafkaCluster(resolveConnection(definition.settings.kafka))
  try {
    // A topic created just before the start (an example's set-up, a deployment's) reaches the
    // metadata a moment later, on a cold broker seconds later: look again before calling it missing.
    const deadline = Date.now() + DEAD_LETTER_TOPIC_WAIT_MS
    let missing: Array<[string, string[]]>
    for (;;) {
      const metadata = await cluster.refreshMetadata([...wanted.keys()])
      missing = [...wanted].filter(([name]) => !metadata.has(name))
      if (missing.length === 0 || Date.now() >= deadline) break
      await sleep(250)
    }
    if (missing.length > 0) {
      throw new MultilaneError(
        'DEAD_LETTER_TOPIC_MISSING',
        missing
          .map(
            ([name, where]) =>
              `${where.join(', ')} › deadLetterQueue.topic: topic "${name}" does not exist (waited ${DEAD_LETTER_TOPIC_WAIT_MS / 1000} s for it to appear); create it (\`multilane topics create ${name}\`) or fix the name`,
          )
          .join('\n'),
      )
    }
  } finally {
    await cluster.close()
  }
}

/** Share group settings that live on the broker: set at start when the app defines them. */
export async function applyShareGroupConfigs(definition: AppDefinition): Promise<void> {
  const wanted = definition.shareGroups.filter((g) => g.settings.autoOffsetReset !== undefined)
  if (wanted.length === 0) return
  const cluster = new KafkaCluster(resolveConnection(definition.settings.kafka))
  try {
    for (const group of wanted) {
      await alterGroupConfigs(cluster, group.name, {
        'share.auto.offset.reset': group.settings.autoOffsetReset!,
      })
    }
  } finally {
    await cluster.close()
  }
}
