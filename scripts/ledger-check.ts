// npm run ledger:check — recomputes every ledger invariant over the whole database and exits
// non-zero with a report when anything is off (warnings alone exit 0).
import { checkLedger } from '#app/models/ledger-check.server.ts'
import { getEnv } from '#app/utils/env.server.ts'
import { createDb, createPool } from '#db/client.ts'
import { openDatabase } from './database.ts'

const database = await openDatabase(getEnv())
const pool = createPool(database.url, { max: 2 })
try {
  const findings = await checkLedger(createDb(pool))
  const errors = findings.filter((f) => f.severity === 'error')
  for (const f of findings) console.log(`${f.severity === 'error' ? 'ERROR  ' : 'warning'} [${f.check}] ${f.detail}`)
  console.log(errors.length === 0 ? `ledger:check clean (${findings.length} warnings)` : `ledger:check FAILED: ${errors.length} errors, ${findings.length - errors.length} warnings`)
  process.exitCode = errors.length === 0 ? 0 : 1
} finally {
  await pool.end()
  await database.stop()
}
