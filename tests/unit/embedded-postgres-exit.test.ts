// Loading the embedded PostgreSQL must leave the process's exit to the process: the package's own
// hooks called process.exit(0) when the event loop emptied, so a test run that had failed (exit
// code 1) ended as a pass. And stopping it must not wait for a server that is already gone.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { startEmbeddedPostgres } from '#db/embedded.ts'

test('a process that loaded the embedded PostgreSQL keeps its exit code', () => {
  const script = `
    const { loadEmbeddedPostgres } = await import('#db/embedded.ts')
    await loadEmbeddedPostgres()
    process.exitCode = 3`
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  expect(run.stderr).not.toMatch(/Error/)
  expect(run.status).toBe(3)
})

test('stopping a server that already shut down (Ctrl-C reaches the whole process group) returns at once', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-embedded-'))
  try {
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true })
    const pidFile = path.join(dir, 'postgres', 'postmaster.pid')
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
    process.kill(pid, 'SIGINT')
    while (existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 50))
    // Let the parent see the exit, as it would before a shutdown that runs after other steps.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const outcome = await Promise.race([server.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 5_000, 'hung'))])
    expect(outcome).toBe('stopped')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 60_000)
