// npm run bench:page — the campaign page against Remix's own floor. Builds the app, serves it in
// production mode (against a throw-away embedded PostgreSQL holding the demo data), and measures
// /campaigns/aftercare-thailand and /baseline (the root layout around a constant string, no
// data) with the same load. Ends with `ratio: X` = campaign req/s ÷ baseline req/s; the target is
// at least 0.80. BENCH_CONNECTIONS, BENCH_DURATION (seconds per page) and BENCH_WARMUP tune the
// load. The duration is split into BENCH_ROUNDS slices that alternate between the two pages, so
// a burst of other work on the machine lands on both rather than skewing the ratio.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { ensureDatabase, freePort, startEmbeddedPostgres } from '#db/embedded.ts'
import { startAppProcess, type AppProcess } from '../scripts/app-process.ts'

const connections = Number(process.env.BENCH_CONNECTIONS ?? 20)
const duration = Number(process.env.BENCH_DURATION ?? 10)
const warmup = Number(process.env.BENCH_WARMUP ?? 3)
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2))
const campaignPath = '/campaigns/aftercare-thailand'
const baselinePath = '/baseline'

interface Measured {
  requests: number
  seconds: number
  /** The worst p99 of the slices: conservative, since histograms of slices cannot be merged. */
  p99Ms: number
}

async function measure(url: string, seconds: number): Promise<Measured> {
  const result = await autocannon({ url, connections, duration: seconds })
  const failures = result.errors + result.timeouts + result.non2xx
  if (failures > 0) throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`)
  return { requests: result.requests.total, seconds: result.duration, p99Ms: result.latency.p99 }
}

function add(a: Measured, b: Measured): Measured {
  return { requests: a.requests + b.requests, seconds: a.seconds + b.seconds, p99Ms: Math.max(a.p99Ms, b.p99Ms) }
}

const perSecond = (m: Measured) => m.requests / m.seconds

async function main() {
  console.log(`bench:page: ${connections} connections × ${duration} s per page in ${rounds} alternating rounds (after ${warmup} s warm-up), node ${process.version}, ${os.cpus().length} CPUs`)
  const build = spawnSync('npx', ['remix', 'build'], { encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`remix build failed:\n${build.stdout}\n${build.stderr}`)

  const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-bench-'))
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true })
  let app: AppProcess | undefined
  try {
    await ensureDatabase(postgres.adminUrl, 'lift_bench')
    const port = await freePort()
    app = await startAppProcess({
      port,
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: postgres.urlFor('lift_bench'),
        DATA_DIR: dir,
        APP_URL: `http://127.0.0.1:${port}`,
        // Production refuses to start without these. Nothing on the page path calls Stripe or
        // Resend, so obviously fake values are enough.
        STRIPE_SECRET_KEY_US: 'sk_test_bench',
        STRIPE_SECRET_KEY_UK: 'sk_test_bench',
        STRIPE_SECRET_KEY_NZ: 'sk_test_bench',
        STRIPE_WEBHOOK_SECRET_US: 'whsec_bench',
        STRIPE_WEBHOOK_SECRET_UK: 'whsec_bench',
        STRIPE_WEBHOOK_SECRET_NZ: 'whsec_bench',
        RESEND_API_KEY: 're_bench',
      },
    })
    const campaignUrl = `${app.baseUrl}${campaignPath}`
    const baselineUrl = `${app.baseUrl}${baselinePath}`

    // Measure the real page, not an error page that happens to be fast.
    const page = await fetch(campaignUrl)
    const html = await page.text()
    if (page.status !== 200 || !html.includes('role="progressbar"')) throw new Error(`${campaignPath} did not render the campaign (status ${page.status})`)

    await measure(baselineUrl, warmup)
    await measure(campaignUrl, warmup)
    let baseline: Measured = { requests: 0, seconds: 0, p99Ms: 0 }
    let campaign: Measured = { requests: 0, seconds: 0, p99Ms: 0 }
    for (let round = 0; round < rounds; round++) {
      baseline = add(baseline, await measure(baselineUrl, duration / rounds))
      campaign = add(campaign, await measure(campaignUrl, duration / rounds))
    }

    const line = (name: string, m: Measured) => `${name.padEnd(30)} ${perSecond(m).toFixed(1).padStart(9)} req/s   p99 ${String(m.p99Ms).padStart(4)} ms`
    console.log(line(campaignPath, campaign))
    console.log(line(baselinePath, baseline))
    console.log(`ratio: ${(perSecond(campaign) / perSecond(baseline)).toFixed(2)}`)
  } finally {
    await app?.stop()
    await postgres.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
