import { runAppRunner } from './multilane-app.ts'

await runAppRunner('blocking', 'blocking')
