// npm run bench:ledger — how fast the ledger takes gifts, against the database's own floor.
//
// Ours: N gift-plus-match settlements from K concurrent connections. Each unit is a pending
// donation (created before the clock starts) settled in one transaction by settleDonation: the
// gift entry, the match entry, the match row, the pledge, the per-donor count and the campaign
// totals. The floor: on the same server, the same K connections write the same number of rows per
// unit (counted from pg_stat_user_tables while ours ran) as plain INSERTs into tables with no
// keys, constraints or triggers, in a pgbench-style transaction (BEGIN, one INSERT per table, COMMIT).
// Then ledger:check must be clean, and the time per entry is measured again with 10 k and with
// 1 M entries already in the ledger (BENCH_LEDGER_GROWTH=0 skips that part).
//
// Env: BENCH_N (4000), BENCH_K (8), BENCH_LEDGER_GROWTH (1), BENCH_GROWTH_N (2000 settlements per
// growth point), BENCH_GROWTH_ENTRIES (1000000), DATABASE_URL (else an ephemeral embedded server).
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import { settleDonation } from '#app/models/gift-events.server.ts'
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { createDb, createPool, type Db } from '#db/client.ts'
import { startEmbeddedPostgres } from '#db/embedded.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { perSecond, quantile, runConcurrently, type Timing } from './timing.ts'

const N = Number(process.env.BENCH_N ?? 4_000)
const K = Number(process.env.BENCH_K ?? 8)
const growth = process.env.BENCH_LEDGER_GROWTH !== '0'
const growthN = Number(process.env.BENCH_GROWTH_N ?? 2_000)
const growthEntries = Number(process.env.BENCH_GROWTH_ENTRIES ?? 1_000_000)

const log = (line = '') => console.log(line)

// ---------------------------------------------------------------------------------------------
// A database to run on

async function openServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const name = `bench_ledger_${process.pid}_${Date.now().toString(36)}`
  if (process.env.DATABASE_URL) {
    const admin = createPool(process.env.DATABASE_URL, { max: 1 })
    await admin.query(`create database ${name}`)
    const url = new URL(process.env.DATABASE_URL)
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      async stop() {
        await admin.query(`drop database if exists ${name} with (force)`)
        await admin.end()
      },
    }
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-bench-pg-'))
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true })
  const admin = createPool(server.adminUrl, { max: 1 })
  await admin.query(`create database ${name}`)
  await admin.end()
  return {
    url: server.urlFor(name),
    async stop() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Seed: the catalogue, one live campaign with a pledge too large to run out, and pending gifts.

async function seed(pool: pg.Pool) {
  await pool.query(`
    insert into fiscal_partners (id, legal_name, display_name, country, currency, registration_numbers, receipt_prefix, is_home)
    values ('us', 'LIFT International', 'LIFT International (US)', 'US', 'USD', '{}', 'US', true);
    insert into designations (id, name, description, restricted, sort_order) values
      ('love-packs', 'Love Packs', 'Care packs', true, 1), ('survivor-fund', 'Survivor Fund', 'Grants', true, 2),
      ('unrestricted', 'Where it is needed most', 'Unrestricted', false, 3);
    insert into partner_organisations (slug, name) values ('one-days-wages', 'One Day''s Wages');
    insert into campaigns (slug, title, summary, story_markdown, currency, donor_target_minor, starts_at, ends_at, status, default_designation_id)
    values ('bench', 'Bench', 'Bench', 'Bench', 'USD', 100000000, now() - interval '1 day', now() + interval '30 days', 'live', 'survivor-fund'),
           ('bulk', 'Bulk history', 'Bulk', 'Bulk', 'USD', 1, now() - interval '400 days', now() + interval '30 days', 'live', 'survivor-fund');
    insert into campaign_totals (campaign_id) select id from campaigns;
    insert into match_pledges (campaign_id, partner_organisation_id, fiscal_partner_id, currency, cap_minor, priority, starts_at, ends_at)
    select c.id, p.id, 'us', 'USD', 1000000000000, 1, c.starts_at, c.ends_at
    from campaigns c, partner_organisations p where c.slug = 'bench';`)
}

let donationBatch = 0

/**
 * n pending donations to the bench campaign, each from its own donor; returns their ids and
 * amounts. Written on a connection of its own that closes at once, so its row counts reach the
 * statistics before the settlements are counted.
 */
async function pendingDonations(url: string, n: number): Promise<{ id: string; amount: number }[]> {
  const batch = ++donationBatch
  const pool = createPool(url, { max: 1 })
  try {
    return await insertDonations(pool, batch, n)
  } finally {
    await pool.end()
  }
}

async function insertDonations(pool: pg.Pool, batch: number, n: number) {
  await pool.query(
    `insert into donors (email, name, country)
     select 'bench-' || $1 || '-' || i || '@example.org', 'Bench donor', 'US' from generate_series(1, $2) i`,
    [batch, n],
  )
  const { rows } = await pool.query<{ id: string; amount: number }>(
    `insert into donations (campaign_id, donor_id, fiscal_partner_id, designation_id, frequency, amount_minor, charged_minor, currency,
                            campaign_amount_minor, donor_name, donor_country)
     select c.id, d.id, 'us', 'love-packs', 'one_off', 500 + (d.id * 7919) % 24500, 500 + (d.id * 7919) % 24500, 'USD',
            500 + (d.id * 7919) % 24500, d.name, 'US'
     from donors d, campaigns c where c.slug = 'bench' and d.email like 'bench-' || $1 || '-%'
     returning id, amount_minor as amount`,
    [batch],
  )
  return rows
}

function connections(url: string, k: number) {
  const pools = Array.from({ length: k }, () => createPool(url, { max: 1 }))
  return { pools, dbs: pools.map(createDb), end: () => Promise.all(pools.map((p) => p.end())) }
}

let balanceSequence = 0

async function settleAll(url: string, k: number, gifts: { id: string; amount: number }[]): Promise<Timing> {
  const { dbs, pools, end } = connections(url, k)
  // Open every connection before the clock starts.
  await Promise.all(pools.map((p) => p.query('select 1')))
  try {
    return await runConcurrently(k, 0, gifts.length, async (worker, i) => {
      const gift = gifts[i]!
      const fee = Math.round(gift.amount * 0.029) + 30
      const id = `txn_bench_${process.pid}_${++balanceSequence}`
      await (dbs[worker] as Db).transaction((tx) =>
        settleDonation(tx, gift.id, {
          chargeId: `ch_${id}`,
          balance: { id, amountMinor: gift.amount, feeMinor: fee, netMinor: gift.amount - fee, currency: 'USD', exchangeRate: null },
          settledAt: new Date(),
        }),
      )
    })
  } finally {
    await end()
  }
}

// ---------------------------------------------------------------------------------------------
// Rows written, from the statistics collector (every backend flushes its counts when it exits).

async function tupleCounts(url: string): Promise<Map<string, { ins: number; upd: number }>> {
  const pool = createPool(url, { max: 1 })
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const { rows } = await pool.query<{ relname: string; ins: number; upd: number }>(
      `select relname, n_tup_ins as ins, n_tup_upd as upd from pg_stat_user_tables`,
    )
    return new Map(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd) }]))
  } finally {
    await pool.end()
  }
}

function rowsWritten(before: Map<string, { ins: number; upd: number }>, after: Map<string, { ins: number; upd: number }>, units: number) {
  const perTable: Record<string, { inserted: number; updated: number }> = {}
  let total = 0
  for (const [table, a] of after) {
    const b = before.get(table) ?? { ins: 0, upd: 0 }
    const inserted = (a.ins - b.ins) / units
    const updated = (a.upd - b.upd) / units
    if (inserted + updated === 0) continue
    perTable[table] = { inserted, updated }
    total += inserted + updated
  }
  return { perTable, total }
}

// ---------------------------------------------------------------------------------------------
// The floor: the same rows, plain INSERTs, no keys, constraints, indexes or triggers.

async function floor(url: string, k: number, n: number, rowsPerUnit: Record<string, number>): Promise<Timing> {
  const setup = createPool(url, { max: 1 })
  const tables = Object.entries(rowsPerUnit).filter(([, rows]) => rows > 0)
  for (const [table] of tables) {
    await setup.query(`create table floor_${table} (a bigint, b text, c text, d timestamptz, e bigint, f jsonb)`)
  }
  await setup.end()
  const statements = tables.map(([table, rows]) => {
    const values = Array.from({ length: rows }, (_, r) => `($1 + ${r}, 'us', 'USD', now(), $2, null)`).join(', ')
    return `insert into floor_${table} (a, b, c, d, e, f) values ${values}`
  })
  const { pools, end } = connections(url, k)
  const clients = await Promise.all(pools.map((p) => p.connect()))
  try {
    return await runConcurrently(k, 0, n, async (worker, i) => {
      const client = clients[worker]!
      await client.query('begin')
      for (const statement of statements) await client.query(statement, [i * 100, 1_000 + i])
      await client.query('commit')
    })
  } finally {
    for (const c of clients) c.release()
    await end()
  }
}

// ---------------------------------------------------------------------------------------------
// Growth: bulk-load balanced entries (in chunks, so the deferred balance checks run per chunk).

async function ledgerEntries(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int8 as n from ledger_entries`)
  return Number(rows[0]!.n)
}

async function bulkLoad(pool: pg.Pool, target: number) {
  const chunk = 50_000
  let have = await ledgerEntries(pool)
  const started = performance.now()
  while (have < target) {
    const n = Math.min(chunk, target - have)
    const client = await pool.connect()
    try {
      await client.query('begin')
      // Gift-shaped entries on a campaign of their own, each with three postings, spread over a year.
      await client.query(
        `with accounts as (
           select ledger_account_id('us', 'USD', 'assets:stripe') as stripe,
                  ledger_account_id('us', 'USD', 'funds:survivor-fund:fees') as fees,
                  ledger_account_id('us', 'USD', 'funds:survivor-fund:gifts') as gifts
         ), entries as (
           insert into ledger_entries (fiscal_partner_id, currency, kind, source_key, effective_at, campaign_id)
           select 'us', 'USD', 'gift', 'txn_bulk_' || ($1::int8 + i), now() - interval '365 days' + (i % 525600) * interval '1 minute',
                  (select id from campaigns where slug = 'bulk')
           from generate_series(1, $2::int8) i
           returning id, effective_at
         )
         insert into ledger_postings (entry_id, fiscal_partner_id, currency, effective_at, account_id, amount_minor)
         select e.id, 'us', 'USD', e.effective_at, x.account, x.amount
         from entries e, accounts a,
              lateral (values (a.stripe, 4_825::int8), (a.fees, 175::int8), (a.gifts, -5_000::int8)) as x(account, amount)`,
        [have, n],
      )
      // The campaign's totals count its gift entries (ledger:check compares them), so the loaded
      // history is counted like gifts that settled.
      await client.query(`update campaign_totals set gifts_count = gifts_count + $1 where campaign_id = (select id from campaigns where slug = 'bulk')`, [n])
      await client.query('commit')
    } finally {
      client.release()
    }
    const before = have
    have += n
    if (Math.floor(have / 200_000) > Math.floor(before / 200_000) || have >= target) {
      log(`  … ${have.toLocaleString('en-US')} entries loaded (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
  }
  await pool.query('vacuum analyze ledger_entries, ledger_postings')
}

// ---------------------------------------------------------------------------------------------

const ms = (x: number) => `${x.toFixed(2)} ms`

function report(label: string, t: Timing) {
  log(`${label}: ${t.units} in ${t.seconds.toFixed(2)} s = ${perSecond(t).toFixed(0)}/s, p50 ${ms(quantile(t.latencies, 0.5))}, p99 ${ms(quantile(t.latencies, 0.99))}`)
}

async function main() {
  log(`bench:ledger — N=${N} settlements from K=${K} connections${growth ? `; growth 10k → ${growthEntries.toLocaleString('en-US')} entries` : ''}`)
  const server = await openServer()
  const admin = createPool(server.url, { max: 2 })
  let failed = false
  try {
    await migrateDatabase(server.url)
    await seed(admin)
    const warmup = await pendingDonations(server.url, Math.min(200, N))
    await settleAll(server.url, K, warmup)
    const gifts = await pendingDonations(server.url, N)
    const { rows: version } = await admin.query<{ v: string }>(`select current_setting('server_version') as v`)
    log(`PostgreSQL ${version[0]!.v}, ${os.cpus().length} CPUs${process.env.DATABASE_URL ? '' : ', embedded (fsync off)'}`)

    const before = await tupleCounts(server.url)
    const ours = await settleAll(server.url, K, gifts)
    const after = await tupleCounts(server.url)
    const written = rowsWritten(before, after, gifts.length)
    log()
    log(`rows written per settlement: ${written.total.toFixed(1)} — ${Object.entries(written.perTable)
      .map(([t, w]) => `${t} ${w.inserted ? `+${w.inserted.toFixed(1)}` : ''}${w.updated ? ` ~${w.updated.toFixed(1)}` : ''}`.trim())
      .join(', ')}`)
    report('ours  (settleDonation: gift + match entries, totals)', ours)

    // The floor writes as many rows per unit to as many tables, as plain inserts.
    const perTable = Object.fromEntries(Object.entries(written.perTable).map(([t, w]) => [t, Math.round(w.inserted + w.updated)]))
    const floorTiming = await floor(server.url, K, N, perTable)
    report(`floor (BEGIN; ${Object.keys(perTable).length} plain INSERTs of ${Object.values(perTable).reduce((a, b) => a + b, 0)} rows; COMMIT)`, floorTiming)

    const findings = await checkLedger(createDb(admin))
    const errors = findings.filter((f) => f.severity === 'error')
    if (errors.length > 0) {
      failed = true
      for (const f of errors) log(`ERROR [${f.check}] ${f.detail}`)
      log(`ledger:check FAILED: ${errors.length} errors`)
    } else {
      log(`ledger:check clean (${findings.length} warnings)`)
    }

    let growthLine = 'growth: skipped (BENCH_LEDGER_GROWTH=0)'
    if (growth && !failed) {
      log()
      log(`growth: time per entry with 10k and ${growthEntries.toLocaleString('en-US')} entries already in the ledger (${growthN} settlements, K=${K})`)
      const measure = async (target: number) => {
        await bulkLoad(admin, target)
        const from = await ledgerEntries(admin)
        const timing = await settleAll(server.url, K, await pendingDonations(server.url, growthN))
        report(`  from ${from.toLocaleString('en-US')} entries`, timing)
        return timing
      }
      const small = await measure(10_000)
      const large = await measure(growthEntries)
      // Wall time per settlement (a gift entry and a match entry) at K connections: 1 / throughput.
      const perEntry = (t: Timing) => (1000 * t.seconds) / t.units
      growthLine = `growth: ${perEntry(small).toFixed(2)} ms per settlement from 10k entries → ${perEntry(large).toFixed(2)} ms from ${growthEntries.toLocaleString('en-US')} (×${(perEntry(large) / perEntry(small)).toFixed(2)}); p99 ${ms(quantile(small.latencies, 0.99))} → ${ms(quantile(large.latencies, 0.99))}`
      const recheck = (await checkLedger(createDb(admin))).filter((f) => f.severity === 'error')
      if (recheck.length > 0) {
        failed = true
        for (const f of recheck) log(`ERROR [${f.check}] ${f.detail}`)
      }
      log(recheck.length === 0 ? `ledger:check clean after growth` : `ledger:check FAILED after growth`)
    }

    log()
    log(`ours:  ${perSecond(ours).toFixed(0)} entries/s, p99 ${ms(quantile(ours.latencies, 0.99))}`)
    log(`floor: ${perSecond(floorTiming).toFixed(0)} tx/s, p99 ${ms(quantile(floorTiming.latencies, 0.99))}`)
    log(growthLine)
    log(`ratio: ${(perSecond(ours) / perSecond(floorTiming)).toFixed(2)}`)
  } finally {
    await admin.end()
    await server.stop()
  }
  if (failed) process.exitCode = 1
}

await main()
