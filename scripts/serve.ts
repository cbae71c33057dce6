// The app server. Starts PostgreSQL (embedded unless DATABASE_URL is set), applies migrations,
// seeds demo data into an empty database, starts the background worker process and serves the
// Remix build (scripts/web-server.ts), in this process or in WEB_CONCURRENCY processes sharing the
// port (decision 0209). `npm start` runs it in production; `npm run dev` runs it under
// `remix dev --manual`.
import { fork, type ChildProcess } from 'node:child_process'
import cluster from 'node:cluster'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connectDatabase, disconnectDatabase } from '#app/utils/db.server.ts'
import { EnvError, getAppUrl, getEnv, type Env } from '#app/utils/env.server.ts'
import { getStripeMode } from '#app/utils/stripe.server.ts'
import { freePort } from '#db/embedded.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { openDatabase } from './database.ts'
import { seedIfEmpty } from './seed.ts'
import { assertBuilt, startWebServer, webProcessCount } from './web-server.ts'
import type { WorkerMessage } from './worker.ts'

async function main() {
  const env = getEnv()
  assertBuilt()
  if (cluster.isWorker) return runWebProcess(env)

  const database = await openDatabase(env)
  // The web processes and the worker process read these from the environment; this process's
  // modules (the webhook lane) parsed theirs before the database was known, so they are told.
  process.env.DATABASE_URL = database.url
  if (getStripeMode(env) === 'sandbox') process.env.STRIPE_API_URL = env.STRIPE_API_URL ?? `http://127.0.0.1:${await freePort()}`
  connectDatabase(database.url)
  await migrateDatabase(database.url)
  const seeded = await seedIfEmpty(database.url, { demoGifts: env.NODE_ENV !== 'production' })

  const worker = await startWorkerProcess().catch(async (error: unknown) => {
    await database.stop()
    throw error
  })
  const web = await startWeb(env).catch(async (error: unknown) => {
    await worker.stop()
    await database.stop()
    throw error
  })
  console.log(`LIFT giving platform on ${getAppUrl(env)} (${env.NODE_ENV}${seeded ? ', demo data seeded' : ''})`)
  console.log(`  database: ${database.embedded ? `embedded PostgreSQL in ${path.join(env.DATA_DIR, 'postgres')}` : 'DATABASE_URL'}`)
  console.log(`  web: ${web.about}`)
  console.log(`  background worker (${worker.about}):`)
  for (const line of worker.describe) console.log(`    ${line}`)

  let closing = false
  const shutdown = async (reason: string, code = 0) => {
    if (closing) return
    closing = true
    console.log(`${reason}: stopping`)
    await web.stop()
    await worker.stop()
    await database.stop()
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  // Events and email would silently stop without the worker, and a web process gone would leave
  // the port half served: the server goes down with either, loudly.
  void worker.exited.then((how) => {
    if (closing) return
    console.error(`The background worker stopped (${how}); stopping the server.`)
    void shutdown('worker', 1)
  })
  void web.exited.then((how) => {
    if (closing) return
    console.error(`A web process stopped (${how}); stopping the server.`)
    void shutdown('web', 1)
  })
}

interface Web {
  about: string
  /** Settles when a web process ends without being told to, saying how; never for this process. */
  exited: Promise<string>
  stop(): Promise<void>
}

async function startWeb(env: Env): Promise<Web> {
  const count = webProcessCount(env)
  if (count === 1) {
    const server = await startWebServer(env)
    return { about: `this process (${process.pid})`, exited: new Promise(() => {}), stop: () => server.stop() }
  }
  // Each forked process runs this file again and takes the cluster.isWorker branch; the port is
  // shared through this one, which hands each new connection to the next process in turn.
  const processes = Array.from({ length: count }, () => cluster.fork())
  const ends = processes.map((child) => new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`))))
  await Promise.all(
    processes.map((child, i) =>
      Promise.race([
        new Promise<void>((resolve) => child.once('listening', () => resolve())),
        ends[i]!.then((how) => Promise.reject(new Error(`A web process stopped before it listened (${how})`))),
      ]),
    ),
  ).catch(async (error: unknown) => {
    for (const child of processes) if (!child.isDead()) child.kill('SIGTERM')
    await Promise.all(ends)
    throw error
  })
  let stopping = false
  return {
    about: `${count} processes (${processes.map((child) => child.process.pid).join(', ')})`,
    exited: Promise.race(ends).then((how) => (stopping ? new Promise<string>(() => {}) : how)),
    async stop() {
      stopping = true
      for (const child of processes) if (!child.isDead()) child.kill('SIGTERM')
      await Promise.all(ends)
    },
  }
}

/** A forked web process: serves until told to stop, or until the process that forked it is gone. */
async function runWebProcess(env: Env) {
  connectDatabase(env.DATABASE_URL!)
  const server = await startWebServer(env)
  let stopping: Promise<void> | null = null
  const stop = () =>
    (stopping ??= (async () => {
      await server.stop()
      await disconnectDatabase()
      process.exit(0)
    })())
  // Ctrl-C reaches the whole process group; the server also sends SIGTERM when it stops.
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
  process.on('disconnect', () => void stop())
}

/**
 * Forks scripts/worker.ts with this environment and waits until its loops run. It gets the lowest
 * CPU priority (nice 19): when the machine is busy, pages and webhooks come first and events wait a
 * little; when it is not, the worker has the CPU to itself.
 */
async function startWorkerProcess() {
  const child: ChildProcess = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
    execArgv: process.execArgv,
    stdio: 'inherit',
  })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)))
  let lowered = true
  try {
    os.setPriority(child.pid!, 19)
  } catch (error) {
    lowered = false
    console.warn(`The background worker keeps the server's CPU priority: ${error instanceof Error ? error.message : error}`)
  }
  const describe = await Promise.race([
    new Promise<string[]>((resolve) => child.once('message', (message: WorkerMessage) => resolve(message.describe))),
    exited.then((how) => Promise.reject(new Error(`The background worker stopped before it was ready (${how})`))),
  ])
  return {
    about: `process ${child.pid}${lowered ? ', at the lowest CPU priority' : ''}`,
    describe,
    /** Settles when the process ends, saying how. */
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error)
  process.exit(1)
})
