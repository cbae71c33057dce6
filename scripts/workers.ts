// Background work that runs beside the web server, each worker with its own loop.
import type { Env } from '#app/utils/env.server.ts'

export interface Workers {
  describe(): string[]
  stop(): Promise<void>
}

export async function startWorkers(_env: Env): Promise<Workers> {
  const running: { name: string; stop(): Promise<void> }[] = []
  return {
    describe: () => running.map((worker) => worker.name),
    async stop() {
      for (const worker of running.reverse()) await worker.stop()
    },
  }
}
