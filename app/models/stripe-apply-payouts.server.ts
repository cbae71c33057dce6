// A payout as Stripe shows it now: recorded for finance's reconciliation, and posted to the ledger
// (Stripe's balance to the bank) once it is paid, reversed by its failure if it fails.
import { sql, type SQL } from 'drizzle-orm'
import type Stripe from 'stripe'
import type { Executor } from '#db/client.ts'
import { payouts } from '#db/schema/ops.ts'
import { postPayout } from './ledger.server.ts'
import { stripeId } from './stripe-fetch.server.ts'

const fromUnix = (seconds: number) => new Date(seconds * 1000)

/** How far along a payout's status is; Stripe only ever moves it forward. */
const payoutStage = (status: SQL) => sql`array_position(array['pending', 'in_transit', 'paid', 'failed', 'canceled']::text[], ${status}::text)`

export async function applyPayout(tx: Executor, fiscalPartnerId: string, payout: Stripe.Payout) {
  const balanceId = stripeId(payout.balance_transaction)
  const failureId = stripeId(payout.failure_balance_transaction)
  await tx
    .insert(payouts)
    .values({
      id: payout.id,
      fiscalPartnerId,
      amountMinor: payout.amount,
      currency: payout.currency.toUpperCase(),
      status: payout.status,
      arrivalDate: fromUnix(payout.arrival_date),
      balanceTransactionId: balanceId,
      failureBalanceTransactionId: failureId,
      failureCode: payout.failure_code,
    })
    .onConflictDoUpdate({
      target: payouts.id,
      // Snapshots of one payout can be applied out of order (two events re-fetched at once): a
      // status only moves forward (pending → in_transit → paid → failed, or canceled), and a failure
      // once seen stays recorded.
      set: {
        status: sql`case when ${payoutStage(sql`excluded.status`)} >= ${payoutStage(sql`${payouts.status}`)} then excluded.status else ${payouts.status} end`,
        failureBalanceTransactionId: sql`coalesce(excluded.failure_balance_transaction_id, ${payouts.failureBalanceTransactionId})`,
        failureCode: sql`coalesce(excluded.failure_code, ${payouts.failureCode})`,
        updatedAt: new Date(),
      },
    })
  const common = { payoutId: payout.id, fiscalPartnerId, currency: payout.currency.toUpperCase(), amountMinor: payout.amount }
  if (balanceId && (payout.status === 'paid' || payout.status === 'failed')) {
    await postPayout(tx, { ...common, kind: 'payout', balanceTransactionId: balanceId, effectiveAt: fromUnix(payout.arrival_date) })
  }
  if (failureId) {
    await postPayout(tx, { ...common, kind: 'payout_failure', balanceTransactionId: failureId, effectiveAt: new Date() })
  }
}

