// One worker process of the example: runs the given segment ids of examples/segments/analytics-app.ts
// until SIGTERM/SIGINT (then drains and commits).   node examples/segments/worker.ts 0[,1…]
import app from './analytics-app.ts'

const segments = (process.argv[2] ?? '')
  .split(',')
  .filter((s) => s !== '')
  .map(Number)
if (segments.length === 0 || segments.some((s) => !Number.isInteger(s))) {
  process.stderr.write('usage: worker.ts <segment id>[,<segment id>…]\n')
  process.exit(2)
}
await app.run({ segments })
