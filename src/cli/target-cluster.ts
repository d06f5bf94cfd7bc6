// Which cluster a command talks to: --bootstrap, else KAFKA_BOOTSTRAP_SERVERS, else the local
// broker of this machine (`multilane kafka start`, MULTILANE_BROKER_DIR).
import { localKafkaStatus } from '../devkafka/broker-state.ts'
import { brokerDir } from '../devkafka/paths.ts'
import { BOOTSTRAP_ENV, formatBootstrap, parseBootstrap } from '../kafka/bootstrap.ts'
import { CliError } from './errors.ts'

export interface TargetCluster {
  /** `host:port,…` */
  bootstrap: string
  /** Where it came from, for messages: "--bootstrap", "KAFKA_BOOTSTRAP_SERVERS", "the local broker". */
  source: string
}

/** Resolves the cluster to talk to; throws NO_BROKER (naming the ways to give one) when there is none. */
export async function targetCluster(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TargetCluster> {
  if (flag !== undefined)
    return { bootstrap: formatBootstrap(parseBootstrap(flag, '--bootstrap')), source: '--bootstrap' }
  const fromEnv = env[BOOTSTRAP_ENV]?.trim()
  if (fromEnv)
    return { bootstrap: formatBootstrap(parseBootstrap(fromEnv, BOOTSTRAP_ENV)), source: BOOTSTRAP_ENV }
  const local = await localKafkaStatus(env)
  if (local?.phase === 'running')
    return { bootstrap: local.bootstrap, source: `the local broker in ${local.dir}` }
  throw new CliError(
    'NO_BROKER',
    `No cluster to talk to: no --bootstrap, no ${BOOTSTRAP_ENV}, and no local broker running in ${brokerDir(env)}. ` +
      'Start one with `multilane kafka start`, or pass --bootstrap host:port.',
  )
}
