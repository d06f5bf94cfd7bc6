import { runAppRunner } from './multilane-app.ts'

await runAppRunner('continuous', 'continuous')
