// Finance's dated exchange rates, for a gift's value in its campaign's currency before Stripe
// says what it settled at (checkout) or when Stripe did not convert (a monthly payment).
import { and, desc, eq, lte } from 'drizzle-orm'
import type { Executor } from '#db/client.ts'
import { fxRates } from '#db/schema/catalog.ts'

/** Finance's dated rate on or before `on`. */
export async function tableRate(exec: Executor, base: string, quote: string, on: Date): Promise<string | null> {
  const [row] = await exec
    .select({ rate: fxRates.rate })
    .from(fxRates)
    .where(and(eq(fxRates.base, base), eq(fxRates.quote, quote), lte(fxRates.effectiveOn, on.toISOString().slice(0, 10))))
    .orderBy(desc(fxRates.effectiveOn))
    .limit(1)
  return row?.rate ?? null
}
