import { sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { db } from '#app/utils/db.server.ts'
import { databaseRejection } from '#tests/db-errors.ts'

async function insertPartner() {
  await db.execute(sql`
    insert into fiscal_partners (id, legal_name, display_name, country, currency, registration_numbers, receipt_prefix, is_home)
    values ('us', 'LIFT International', 'LIFT International (US)', 'US', 'USD', '{}', 'US', true)`)
}

async function entry(amounts: number[], key: string) {
  await db.transaction(async (tx) => {
    const inserted = await tx.execute<{ id: number }>(sql`
      insert into ledger_entries (fiscal_partner_id, currency, kind, source_key, effective_at)
      values ('us', 'USD', 'gift', ${key}, '2026-11-01T00:00:00Z') returning id`)
    const id = inserted.rows[0]!.id
    for (const [index, amount] of amounts.entries()) {
      await tx.execute(sql`
        insert into ledger_postings (entry_id, fiscal_partner_id, currency, effective_at, account_id, amount_minor)
        values (${id}, 'us', 'USD', '2026-11-01T00:00:00Z', ledger_account_id('us', 'USD', ${`funds:test:a${index}`}), ${amount})`)
    }
  })
}

describe('ledger guards in the database', () => {
  test('a balanced entry commits; an unbalanced one is rejected at commit', async () => {
    await insertPartner()
    await entry([500, -500], 'txn_balanced')
    expect(await databaseRejection(entry([500, -499], 'txn_unbalanced'))).toMatch(/does not balance/)
    const { rows } = await db.execute<{ n: number }>(sql`select count(*)::int as n from ledger_entries`)
    expect(rows[0]!.n).toBe(1)
  })

  test('postings and entries cannot be updated, deleted or truncated', async () => {
    await insertPartner()
    await entry([700, -700], 'txn_fixed')
    expect(await databaseRejection(db.execute(sql`update ledger_postings set amount_minor = 1`))).toMatch(/append-only/)
    expect(await databaseRejection(db.execute(sql`delete from ledger_postings`))).toMatch(/append-only/)
    expect(await databaseRejection(db.execute(sql`delete from ledger_entries`))).toMatch(/append-only/)
    expect(await databaseRejection(db.execute(sql`truncate ledger_postings cascade`))).toMatch(/append-only/)
    const { rows } = await db.execute<{ total: number }>(sql`select sum(abs(amount_minor))::int8 as total from ledger_postings`)
    expect(rows[0]!.total).toBe(1400)
  })

  test('one entry per kind and source key', async () => {
    await insertPartner()
    await entry([100, -100], 'txn_once')
    expect(await databaseRejection(entry([100, -100], 'txn_once'))).toMatch(/ledger_entries_source/)
  })
})
