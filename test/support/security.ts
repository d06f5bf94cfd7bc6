// SCRAM users and ACLs on a local broker started with ACL mode (`startPrivateBroker({ acls: true })`),
// set through the plain listener, whose principal (User:ANONYMOUS) is a super user there.
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  Admin,
  alterUserScramCredentialsV0,
  Connection,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka'
import { DEV_SASL_USER } from '../../src/devkafka/broker-config.ts'
import type { LocalKafkaState } from '../../src/devkafka/local-broker.ts'
import type { KafkaConnectionOptions } from '../../src/kafka/connection-options.ts'

/** The broker's SASL_SSL listener as an app's `kafka` options (SCRAM-SHA-512, the broker's CA trusted). */
export function saslSslKafka(
  broker: LocalKafkaState,
  user: { username: string; password: string } = DEV_SASL_USER,
): KafkaConnectionOptions {
  if (!broker.saslSslBootstrap) throw new Error('the broker has no SASL_SSL listener')
  return {
    bootstrap: broker.saslSslBootstrap,
    clientId: 'security-test',
    sasl: { mechanism: 'SCRAM-SHA-512', username: user.username, password: user.password },
    tls: { ca: readFileSync(broker.tlsCaFile) },
  }
}

/** Creates (or replaces) a SCRAM-SHA-512 user: AlterUserScramCredentials with a salted password made here. */
export async function addScramUser(
  broker: LocalKafkaState,
  username: string,
  password: string,
): Promise<void> {
  const iterations = 4096
  const salt = randomBytes(32)
  const saltedPassword = pbkdf2Sync(password, salt, iterations, 64, 'sha512')
  const connection = new Connection('security-test')
  try {
    await connection.connect('127.0.0.1', broker.port)
    const response = await alterUserScramCredentialsV0.api.async(
      connection,
      [],
      [{ name: username, mechanism: 2 /* SCRAM-SHA-512 */, iterations, salt, saltedPassword }],
    )
    const failed = response.results.find((r) => r.errorCode !== 0)
    if (failed)
      throw new Error(
        `AlterUserScramCredentials for ${username}: error ${failed.errorCode} ${failed.errorMessage}`,
      )
  } finally {
    await connection.close()
  }
}

type Operation = keyof typeof AclOperations
type Resource = 'TOPIC' | 'GROUP' | 'CLUSTER'

/** One ALLOW grant: `[resource, name, operation]`; a name ending in `*` is a prefix. */
export type Grant = [Resource, string, Operation]

/** Allows `User:<username>` the given operations (from any host). */
export async function grant(
  broker: LocalKafkaState,
  username: string,
  grants: readonly Grant[],
): Promise<void> {
  const admin = new Admin({ clientId: 'security-test', bootstrapBrokers: [broker.bootstrap] })
  try {
    const creations: Acl[] = grants.map(([resource, name, operation]) => ({
      resourceType: ResourceTypes[resource],
      resourceName: name.endsWith('*') ? name.slice(0, -1) : name,
      resourcePatternType: name.endsWith('*') ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: `User:${username}`,
      host: '*',
      operation: AclOperations[operation],
      permissionType: AclPermissionTypes.ALLOW,
    }))
    await admin.createAcls({ creations })
  } finally {
    await admin.close()
  }
}
