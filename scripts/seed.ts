import { sql } from 'drizzle-orm'
import { createDb, createPool } from '#db/client.ts'
import { seedCatalog } from '#db/seed.ts'
import { seedDemoGifts } from './demo-gifts.ts'

/**
 * Seeds the catalogue (fiscal partners, designations, campaigns) when the database has no fiscal
 * partners yet, and demo gifts too unless this is production: invented donors must never reach a
 * live ledger, nor be sent a thank-you. Returns whether it seeded.
 */
export async function seedIfEmpty(url: string, { demoGifts = true }: { demoGifts?: boolean } = {}): Promise<boolean> {
  const pool = createPool(url, { max: 2 })
  try {
    const db = createDb(pool)
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from fiscal_partners`)
    if (rows[0]!.n > 0) return false
    // The catalogue goes in whole or not at all, so a failed seed is simply retried next start.
    await db.transaction((tx) => seedCatalog(tx))
    // Demo gifts go through the ledger like real ones, in their own transactions.
    if (demoGifts) await seedDemoGifts(db)
    return true
  } finally {
    await pool.end()
  }
}
