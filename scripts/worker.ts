// The background worker process: the Stripe event processor, the mailer, the reservation sweeper
// and (without Stripe keys) the offline sandbox's fake Stripe. scripts/serve.ts starts it beside
// the web server, at a lower CPU priority, so that settling gifts and rendering emails never take
// the web server's thread from the pages and webhooks it answers (decision 0208). It stops when
// told to, or when the web server that started it is gone.
import { disconnectDatabase } from '#app/utils/db.server.ts'
import { EnvError, getEnv } from '#app/utils/env.server.ts'
import { startWorkers } from './workers.ts'

export interface WorkerMessage {
  type: 'ready'
  describe: string[]
}

async function main() {
  const workers = await startWorkers(getEnv())
  let stopping: Promise<void> | null = null
  const stop = (code: number) =>
    (stopping ??= (async () => {
      await workers.stop()
      await disconnectDatabase()
      process.exit(code)
    })())
  // Ctrl-C reaches the whole process group; the web server also sends SIGTERM when it stops.
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  process.on('disconnect', () => void stop(0))
  process.send?.({ type: 'ready', describe: workers.describe() } satisfies WorkerMessage)
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error)
  process.exit(1)
})
