// Once per e2e run: build the app, start a throw-away PostgreSQL, and run the real server
// (scripts/serve.ts: migrations, demo seed, express) against it, the way `npm start` would.
// Without Chromium the browser tests cannot run: CI fails loudly, a laptop skips them with a hint
// (docs/decisions/0005-e2e-without-chromium.md).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { ensureDatabase, startEmbeddedPostgres } from '#db/embedded.ts'
import { startAppProcess, type AppProcess } from '../../scripts/app-process.ts'

const chromiumPath = '/usr/bin/chromium'

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when the e2e tests are skipped (no Chromium on a developer machine). */
    app: { baseUrl: string; databaseUrl: string; chromiumPath: string } | null
  }
}

export default async function setup(project: TestProject) {
  if (!existsSync(chromiumPath)) {
    const hint = `${chromiumPath} is missing; install it with \`apt-get install -y chromium\``
    if (process.env.CI === 'true') throw new Error(`e2e: ${hint}. CI must run the browser tests.`)
    console.warn(`e2e: skipping the browser tests: ${hint}.`)
    project.provide('app', null)
    return
  }

  const build = spawnSync('npx', ['remix', 'build'], { encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`e2e: remix build failed:\n${build.stdout}\n${build.stderr}`)

  const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-e2e-'))
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true })
  let app: AppProcess | undefined
  const cleanup = async () => {
    await app?.stop()
    await postgres.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await ensureDatabase(postgres.adminUrl, 'lift_e2e')
    const databaseUrl = postgres.urlFor('lift_e2e')
    // Two web processes, as production runs one per core: every browser and webhook test then
    // crosses processes that share nothing but the database and the worker.
    app = await startAppProcess({ env: { NODE_ENV: 'test', DATABASE_URL: databaseUrl, DATA_DIR: dir, WEB_CONCURRENCY: '2' } })
    project.provide('app', { baseUrl: app.baseUrl, databaseUrl, chromiumPath })
  } catch (error) {
    await cleanup()
    throw error
  }
  return cleanup
}
