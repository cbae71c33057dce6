// The app server. Starts PostgreSQL (embedded unless DATABASE_URL is set), applies migrations,
// seeds demo data into an empty database, starts the background workers and serves the Remix
// build. `npm start` runs it in production; `npm run dev` runs it under `remix dev --manual`.
import { existsSync, watch } from 'node:fs'
import type { Server } from 'node:http'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import { broadcastDevReady, type ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import { connectDatabase } from '#app/utils/db.server.ts'
import { EnvError, getAppUrl, getEnv } from '#app/utils/env.server.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { openDatabase } from './database.ts'
import { seedIfEmpty } from './seed.ts'
import { startWorkers } from './workers.ts'

const buildPath = path.resolve('build/index.js')

async function main() {
  const env = getEnv()
  const dev = env.NODE_ENV === 'development'
  if (!existsSync(buildPath)) {
    throw new Error(`No build at ${buildPath}: run \`npm run build\` first (or \`npm run dev\`).`)
  }

  const database = await openDatabase(env)
  // The server build's own modules connect lazily from the environment; this process's modules
  // (the workers) read an environment parsed before the database was known, so they are told.
  process.env.DATABASE_URL = database.url
  connectDatabase(database.url)
  await migrateDatabase(database.url)
  const seeded = await seedIfEmpty(database.url, { demoGifts: env.NODE_ENV !== 'production' })

  const workers = await startWorkers(env)

  let build = (await import(pathToFileURL(buildPath).href)) as ServerBuild
  const app = express()
  app.disable('x-powered-by')
  if (env.TRUST_PROXY) app.set('trust proxy', true)
  // Webhook replies are a few bytes of JSON: they skip compression (and its wrapping of the
  // response) entirely, since Stripe's sender only waits for the status.
  const compress = compression()
  app.use((req, res, next) => (req.path.startsWith('/webhooks/') ? next() : compress(req, res, next)))
  app.use('/build', express.static('public/build', { immutable: true, maxAge: '1y' }))
  // Only paths that name a file (favicon.svg) look on disk; pages never have an extension, so a
  // page view costs no file-system lookup.
  const publicFiles = express.static('public', { maxAge: '1h' })
  app.use((req, res, next) => (path.extname(req.path) ? publicFiles(req, res, next) : next()))
  const handler = (current: ServerBuild) =>
    createRequestHandler({
      build: current,
      mode: current.mode,
      getLoadContext: (req) => ({ clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown' }),
    })
  let handle = handler(build)
  app.all('*', (req, res, next) => handle(req, res, next))

  const server: Server = app.listen(env.PORT, () => {
    console.log(`LIFT giving platform on ${getAppUrl(env)} (${env.NODE_ENV}${seeded ? ', demo data seeded' : ''})`)
    console.log(`  database: ${database.embedded ? `embedded PostgreSQL in ${path.join(env.DATA_DIR, 'postgres')}` : 'DATABASE_URL'}`)
    for (const line of workers.describe()) console.log(`  ${line}`)
    if (dev) broadcastDevReady(build)
  })

  if (dev) {
    // remix dev --manual: keep this process (and its database) up and swap in each new build.
    const versionFile = path.resolve('build/version.txt')
    watch(path.dirname(versionFile), async (_event, file) => {
      if (file !== 'version.txt') return
      build = (await import(`${pathToFileURL(buildPath).href}?t=${Date.now()}`)) as ServerBuild
      handle = handler(build)
      broadcastDevReady(build)
    })
  }

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    console.log(`${signal}: stopping`)
    server.close()
    server.closeAllConnections()
    await workers.stop()
    await database.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error)
  process.exit(1)
})
