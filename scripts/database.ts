import path from 'node:path'
import { ensureDatabase, runningEmbeddedPostgres, startEmbeddedPostgres } from '#db/embedded.ts'
import type { Env } from '#app/utils/env.server.ts'

export interface OpenDatabase {
  url: string
  embedded: boolean
  stop(): Promise<void>
}

/** DATABASE_URL when set; otherwise a real PostgreSQL embedded under DATA_DIR, kept between runs. */
export async function openDatabase(env: Env, log: (line: string) => void = () => {}): Promise<OpenDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, stop: async () => {} }
  const dataDir = path.join(env.DATA_DIR, 'postgres')
  const running = runningEmbeddedPostgres(dataDir)
  if (running) return { url: running.urlFor('lift'), embedded: true, stop: async () => {} }
  const server = await startEmbeddedPostgres({ dataDir, log })
  await ensureDatabase(server.adminUrl, 'lift')
  return { url: server.urlFor('lift'), embedded: true, stop: () => server.stop() }
}
