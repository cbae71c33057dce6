// Loading the embedded PostgreSQL must leave the process's exit to the process: the package's own
// hooks called process.exit(0) when the event loop emptied, so a test run that had failed (exit
// code 1) ended as a pass.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

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
