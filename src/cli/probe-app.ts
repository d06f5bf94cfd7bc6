// The child of `probeApp` (app-probe.ts): imports the app module, sends its shape (or the
// error) to the parent over IPC, and exits at once, whatever handles the module opened.
// argv: <app module, as given on the command line>

import { loadAppModule } from './app-module.ts'
import type { ProbeReply } from './app-probe.ts'

// The parent gone (stopped by a signal, killed) closes the channel: nobody waits for the answer
// any more, and a module whose import never finishes must not keep this process running on its own.
process.on('disconnect', () => process.exit(1))

function reply(message: ProbeReply): void {
  if (!process.send) throw new Error('probe-app runs as a child of `multilane run` (no IPC channel)')
  process.send(message, () => process.exit(0))
}

try {
  const modulePath = process.argv[2]
  if (!modulePath) throw new Error('usage: probe-app <app module>')
  const definition = (await loadAppModule(modulePath)).definition()
  reply({
    shape: {
      consumerGroups: definition.consumerGroups.map((g) => ({
        name: g.name,
        parallelSegments: { count: g.parallelSegments.count },
      })),
      shareGroups: definition.shareGroups.length,
    },
  })
} catch (error) {
  const e = error as Error & { code?: unknown }
  reply({
    error: {
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      message: e?.message ?? String(error),
    },
  })
}
