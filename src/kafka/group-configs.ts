import { describeConfigsV4, incrementalAlterConfigsV1 } from '@platformatic/kafka'
import { MultilaneError } from '../errors.ts'
import type { KafkaCluster } from './cluster.ts'
import { kafkaErrorName, responseOf } from './protocol-errors.ts'

/** ConfigResource type of a group (KIP-848 / KIP-932 group configs). */
export const GROUP_RESOURCE_TYPE = 32

/** IncrementalAlterConfigs operation SET. */
const SET = 0 as const

/** Reading or changing a group's dynamic configs failed; the broker's reason is in the message. */
export class GroupConfigError extends MultilaneError<'GROUP_CONFIG_FAILED'> {
  readonly kafkaError: string | undefined

  constructor(message: string, kafkaError?: string, options?: ErrorOptions) {
    super('GROUP_CONFIG_FAILED', message, options)
    this.kafkaError = kafkaError
  }
}

/**
 * The dynamic configs of group `groupId` (DescribeConfigs on the GROUP resource): every group
 * config with its effective value (set on the group, else the broker default), by name.
 */
export async function describeGroupConfigs(
  cluster: KafkaCluster,
  groupId: string,
): Promise<Map<string, string>> {
  const connection = await cluster.anyConnection()
  let response: describeConfigsV4.DescribeConfigsResponse
  try {
    response = await describeConfigsV4.api.async(
      connection,
      [{ resourceType: GROUP_RESOURCE_TYPE, resourceName: groupId, configurationKeys: null }],
      false,
      false,
    )
  } catch (error) {
    const partial = responseOf<describeConfigsV4.DescribeConfigsResponse>(error)
    const failed = partial?.results.find((r) => r.errorCode !== 0)
    if (failed) {
      const name = kafkaErrorName(failed.errorCode)
      throw new GroupConfigError(
        `reading the configs of group "${groupId}" failed: ${name}${failed.errorMessage ? ` (${failed.errorMessage})` : ''}`,
        name,
        { cause: error },
      )
    }
    throw new GroupConfigError(
      `reading the configs of group "${groupId}" failed: ${(error as Error).message}`,
      undefined,
      {
        cause: error,
      },
    )
  }
  const out = new Map<string, string>()
  for (const result of response.results)
    for (const c of result.configs) if (typeof c.value === 'string') out.set(c.name, c.value)
  return out
}

/**
 * Sets dynamic configs of group `groupId` (IncrementalAlterConfigs, operation SET, on the
 * GROUP resource). The broker validates names and ranges; its refusal becomes a
 * GroupConfigError quoting the broker's message.
 */
export async function alterGroupConfigs(
  cluster: KafkaCluster,
  groupId: string,
  settings: Readonly<Record<string, string>>,
): Promise<void> {
  const configs = Object.entries(settings).map(([name, value]) => ({ name, configOperation: SET, value }))
  if (configs.length === 0) return
  const connection = await cluster.anyConnection()
  try {
    await incrementalAlterConfigsV1.api.async(
      connection,
      [{ resourceType: GROUP_RESOURCE_TYPE, resourceName: groupId, configs }],
      false,
    )
  } catch (error) {
    const partial = responseOf<incrementalAlterConfigsV1.IncrementalAlterConfigsResponse>(error)
    const failed = partial?.responses.find((r) => r.errorCode !== 0)
    const name = failed ? kafkaErrorName(failed.errorCode) : undefined
    const reason = failed
      ? `${name}${failed.errorMessage ? `: ${failed.errorMessage}` : ''}`
      : (error as Error).message
    throw new GroupConfigError(
      `setting ${Object.keys(settings).join(', ')} on group "${groupId}" failed: ${reason}`,
      name,
      { cause: error },
    )
  }
}
