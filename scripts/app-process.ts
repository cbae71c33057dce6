// Runs the app server (scripts/serve.ts) as a child process for the e2e tests and the benchmark:
// the real server, started the way `npm start` starts it, stopped cleanly afterwards.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from '#db/embedded.ts'

export interface AppProcess {
  baseUrl: string
  /** Everything the server printed, for error messages. */
  output(): string
  stop(): Promise<void>
}

export async function startAppProcess(options: {
  env: Record<string, string>
  port?: number
  readyPath?: string
  timeoutMs?: number
}): Promise<AppProcess> {
  const port = options.port ?? (await freePort())
  const lines: string[] = []
  // Its own process group, so stopping it reaches npx and the node process under it alike.
  const child = spawn('npx', ['tsx', 'scripts/serve.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    // Its public address is the one it is reached at, so Stripe's return links (and the cookies
    // they rely on) stay on the same host as the pages.
    env: { ...process.env, APP_URL: `http://127.0.0.1:${port}`, ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  child.stdout.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
  const group = child.pid!
  const output = () => lines.join('')

  const alive = () => {
    try {
      process.kill(-group, 0)
      return true
    } catch {
      return false
    }
  }
  const stop = async () => {
    if (!alive()) return
    // SIGTERM lets serve.ts close its server and database; SIGKILL only if it hangs.
    process.kill(-group, 'SIGTERM')
    const deadline = Date.now() + 15_000
    while (alive() && Date.now() < deadline) await sleep(100)
    if (alive()) process.kill(-group, 'SIGKILL')
  }

  const baseUrl = `http://127.0.0.1:${port}`
  const url = `${baseUrl}${options.readyPath ?? '/baseline'}`
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the app server exited (${child.exitCode}):\n${output()}`)
      if (Date.now() > deadline) throw new Error(`the app server did not answer ${url} in time:\n${output()}`)
      const ok = await fetch(url).then(
        (response) => response.ok,
        () => false,
      )
      if (ok) break
      await sleep(250)
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { baseUrl, output, stop }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
