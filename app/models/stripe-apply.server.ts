// Applying what Stripe says is true now. Every step is idempotent (keyed by Stripe ids and
// balance transactions) and monotonic (a gift never goes back to pending, a final dispute never
// reopens), so any order of events, and any replay, converges to the same state.
import { and, desc, eq, sql } from 'drizzle-orm'
import type Stripe from 'stripe'
import { convertMinor } from '#app/utils/money.ts'
import type { Executor } from '#db/client.ts'
import { campaigns } from '#db/schema/catalog.ts'
import { donations, recurringPlans } from '#db/schema/giving.ts'
import { enqueueMonthlyGiftEnded, enqueueMonthlyPaymentFailed, enqueuePaymentFailed } from './email-outbox.server.ts'
import { tableRate } from './fx-rates.server.ts'
import { endCheckout, markProcessing, recordDispute, recordRefund, settleDonation } from './gift-events.server.ts'
import { postStripeOther } from './ledger.server.ts'
import { applyPayout } from './stripe-apply-payouts.server.ts'
import { balanceFacts, expandedBalance, stripeId, type ChargeSnapshot, type InvoiceSnapshot, type SessionSnapshot, type Snapshot } from './stripe-fetch.server.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const fromUnix = (seconds: number) => new Date(seconds * 1000)
/** How long a bank debit may take to confirm while its match stays reserved. */
const processingHoldMs = 10 * 86_400_000

export async function applySnapshot(tx: Executor, fiscalPartnerId: string, snapshot: Snapshot): Promise<void> {
  switch (snapshot.kind) {
    case 'session':
      return applySession(tx, fiscalPartnerId, snapshot.session)
    case 'invoice':
      return applyInvoice(tx, fiscalPartnerId, snapshot.invoice, snapshot.charge)
    case 'charge':
      return applyCharge(tx, fiscalPartnerId, snapshot.charge)
    case 'subscription':
      return applySubscription(tx, snapshot.subscription, snapshot.fetchedAt)
    case 'payout':
      return applyPayout(tx, fiscalPartnerId, snapshot.payout)
    case 'none':
      return
  }
}

async function applySession(tx: Executor, fiscalPartnerId: string, { session, paymentIntent, charge, invoice }: SessionSnapshot) {
  const claimed = session.client_reference_id ?? session.metadata?.donation_id
  const [donation] =
    claimed && uuid.test(claimed)
      ? await tx.select({ id: donations.id, recurringPlanId: donations.recurringPlanId }).from(donations).where(eq(donations.id, claimed))
      : []
  if (!donation) {
    // Not a checkout this platform created (a payment link, another tool on the same account): its
    // money still reached the Stripe balance, so it is parked in suspense (applyCharge).
    if (session.status === 'complete' && charge) await applyCharge(tx, fiscalPartnerId, invoice ? { ...charge, invoice } : charge)
    return
  }
  const donationId = donation.id
  const at = new Date()
  if (session.status === 'expired') {
    await endCheckout(tx, donationId, { status: 'expired', at })
    return
  }
  if (session.status !== 'complete') return
  if (session.mode === 'subscription') {
    if (donation.recurringPlanId) await linkPlan(tx, donation.recurringPlanId, stripeId(session.subscription), stripeId(session.customer))
    if (invoice?.invoice.status === 'paid') await applyInvoice(tx, fiscalPartnerId, invoice, charge)
    else if (invoice && attemptFailed(invoice)) await applyInvoice(tx, fiscalPartnerId, invoice, null)
    // A first payment by bank debit: the donor is done, the money is not (invoice.paid or
    // invoice.payment_failed says which). Its match is held as long as a one-off debit's.
    else if (session.payment_status === 'unpaid') await markProcessing(tx, donationId, new Date(at.getTime() + processingHoldMs))
    return
  }
  if (session.payment_status === 'paid' && charge) {
    await applyCharge(tx, fiscalPartnerId, charge, donationId)
  } else if (paymentIntent?.status === 'processing') {
    await markProcessing(tx, donationId, new Date(at.getTime() + processingHoldMs))
  } else if (paymentIntent && (paymentIntent.status === 'requires_payment_method' || paymentIntent.status === 'canceled')) {
    await failAfterCheckout(tx, donationId, paymentIntent.last_payment_error, { tellDonor: true })
  }
}

/**
 * A gift whose payment failed after its checkout was complete (a bank debit): the donor left
 * believing it was on its way, so besides the gift ending, they are told, once. The gift keeps
 * Stripe's message for finance; the donor sees it only where Stripe meant it for the payer.
 */
async function failAfterCheckout(tx: Executor, donationId: string, error: Stripe.PaymentIntent.LastPaymentError | null, { tellDonor }: { tellDonor: boolean }) {
  const { applied } = await endCheckout(tx, donationId, { status: 'failed', reason: error?.message ?? null, at: new Date() })
  if (applied && tellDonor) await enqueuePaymentFailed(tx, { donationId, reason: payerMessage(error) })
}

/** Stripe's message for a failed payment when it is one for the payer: "For card errors, these messages can be shown to your users." */
const payerMessage = (error: Stripe.PaymentIntent.LastPaymentError | null | undefined) => (error?.type === 'card_error' ? (error.message ?? null) : null)

/** The subscription has ended at Stripe, whatever our copy of it says yet. */
const endedAtStripe = (subscription: Stripe.Subscription | null) => subscription?.status === 'canceled' || subscription?.status === 'incomplete_expired'

async function linkPlan(tx: Executor, planId: string, subscriptionId: string | null, customerId: string | null) {
  if (!subscriptionId) return
  await tx
    .update(recurringPlans)
    .set({
      stripeSubscriptionId: subscriptionId,
      stripeCustomerId: customerId,
      status: sql`case when ${recurringPlans.status} = 'pending' then 'active' else ${recurringPlans.status} end`,
    })
    .where(eq(recurringPlans.id, planId))
}

/** The donation a charge pays for: known already, named in its intent, or its invoice's. */
async function donationForCharge(tx: Executor, snapshot: ChargeSnapshot): Promise<string | null> {
  const [known] = await tx
    .select({ id: donations.id })
    .from(donations)
    .where(sql`${donations.chargeId} = ${snapshot.charge.id} or ${donations.paymentIntentId} = ${snapshot.paymentIntent?.id ?? null}`)
  if (known) return known.id
  // Named in the intent, but only if it is ours: another install sharing the Stripe account (a
  // staging site) writes the same metadata, and its money must reach suspense, not fail for ever.
  const fromIntent = snapshot.paymentIntent?.metadata?.donation_id
  if (fromIntent && uuid.test(fromIntent)) {
    const [named] = await tx.select({ id: donations.id }).from(donations).where(eq(donations.id, fromIntent))
    if (named) return named.id
  }
  if (snapshot.invoice) return installmentDonation(tx, snapshot.invoice)
  return null
}

async function applyCharge(tx: Executor, fiscalPartnerId: string, snapshot: ChargeSnapshot, donationHint?: string) {
  const { charge, balance } = snapshot
  const donationId = donationHint ?? (await donationForCharge(tx, snapshot))
  if (!donationId) {
    // Money we cannot attribute is parked in suspense for finance, never dropped: the charge and
    // everything that moved money on it since (refunds, their failures, dispute withdrawals and
    // reinstatements), each keyed by its own balance transaction.
    const moved = [
      balance,
      ...snapshot.refunds.flatMap((r) => [expandedBalance(r.balance_transaction), expandedBalance(r.failure_balance_transaction)]),
      ...snapshot.disputes.flatMap((d) => d.balance_transactions),
    ]
    for (const bt of moved) {
      if (!bt) continue
      await postStripeOther(tx, {
        balance: balanceFacts(bt),
        fiscalPartnerId,
        known: false,
        effectiveAt: fromUnix(bt.created),
        description: `${bt.type} on charge ${charge.id}, which matches no donation`,
      })
    }
    return
  }
  if (charge.status !== 'succeeded' || !balance) return
  await settleDonation(tx, donationId, {
    chargeId: charge.id,
    paymentIntentId: snapshot.paymentIntent?.id ?? stripeId(charge.payment_intent),
    invoiceId: snapshot.invoice?.invoice.id ?? null,
    balance: balanceFacts(balance),
    settledAt: fromUnix(balance.created),
  })
  for (const refund of [...snapshot.refunds].sort((a, b) => a.created - b.created)) {
    const moved = expandedBalance(refund.balance_transaction)
    const failed = expandedBalance(refund.failure_balance_transaction)
    await recordRefund(tx, donationId, {
      id: refund.id,
      amountMinor: refund.amount,
      currency: refund.currency.toUpperCase(),
      status: refund.status ?? 'pending',
      reason: refund.reason,
      balance: moved ? balanceFacts(moved) : null,
      failureBalance: failed ? balanceFacts(failed) : null,
      at: fromUnix(refund.created),
    })
  }
  for (const dispute of [...snapshot.disputes].sort((a, b) => a.created - b.created)) {
    await recordDispute(tx, donationId, {
      id: dispute.id,
      amountMinor: dispute.amount,
      currency: dispute.currency.toUpperCase(),
      status: dispute.status,
      reason: dispute.reason,
      balances: [...dispute.balance_transactions].sort((a, b) => a.created - b.created).map(balanceFacts),
      at: fromUnix(dispute.created),
    })
  }
}

async function planFor(tx: Executor, subscription: Stripe.Subscription | null, subscriptionId: string | null) {
  const planId = subscription?.metadata?.recurring_plan_id
  const [plan] = await tx
    .select()
    .from(recurringPlans)
    .where(
      planId && uuid.test(planId)
        ? eq(recurringPlans.id, planId)
        : eq(recurringPlans.stripeSubscriptionId, subscriptionId ?? '—'),
    )
  return plan
}

async function applyInvoice(tx: Executor, fiscalPartnerId: string, snapshot: InvoiceSnapshot, charge: ChargeSnapshot | null) {
  const { invoice, subscription } = snapshot
  const subscriptionId = stripeId(invoice.parent?.subscription_details?.subscription)
  const plan = await planFor(tx, subscription, subscriptionId)
  if (!plan) {
    // A subscription this platform did not create: each payment is parked in suspense, never dropped.
    if (invoice.status === 'paid' && charge) await applyCharge(tx, fiscalPartnerId, { ...charge, invoice: snapshot })
    return
  }
  if (!plan.stripeSubscriptionId) await linkPlan(tx, plan.id, subscriptionId, stripeId(invoice.customer))
  if (invoice.status === 'paid' && charge) {
    const donationId = await installmentDonation(tx, snapshot)
    if (donationId) await applyCharge(tx, fiscalPartnerId, { ...charge, invoice: snapshot }, donationId)
  } else if (invoice.status === 'open' && invoice.attempt_count > 0 && snapshot.attempt?.status !== 'processing') {
    // Counted once per failed attempt, however many events show the invoice in this state.
    const failure = `Payment for invoice ${invoice.id} failed (attempt ${invoice.attempt_count})`
    const [counted] = await tx
      .update(recurringPlans)
      .set({ failedPaymentCount: sql`${recurringPlans.failedPaymentCount} + 1`, lastPaymentError: failure })
      .where(and(eq(recurringPlans.id, plan.id), sql`${recurringPlans.lastPaymentError} is distinct from ${failure}`))
      .returning({ status: recurringPlans.status })
    // A notice that promises another try is wrong once the gift has ended, at Stripe or in our
    // copy (read under the row lock the update took); the ended notice says it instead.
    const stillGoing = !endedAtStripe(subscription) && counted?.status !== 'canceled' && counted?.status !== 'abandoned'
    if (invoice.billing_reason === 'subscription_create') {
      // The first payment was a bank debit that failed after the donor left checkout: the gift made
      // there ends as failed and its match hold goes back to the pledge now, not when the 10-day
      // hold lapses. If a retry is paid later, invoice.paid settles the same gift (settleDonation).
      const first = attemptFailed(snapshot) ? await firstInstallment(tx, plan.id) : undefined
      if (first) await failAfterCheckout(tx, first.id, snapshot.attempt?.error ?? null, { tellDonor: stillGoing })
    } else if (counted && stillGoing && invoice.amount_due > 0) {
      // Once per payment, however many of Stripe's tries fail.
      await enqueueMonthlyPaymentFailed(tx, {
        planId: plan.id,
        invoiceId: invoice.id,
        amountMinor: invoice.amount_due,
        currency: invoice.currency.toUpperCase(),
        reason: payerMessage(snapshot.attempt?.error),
        dueAt: fromUnix(invoice.created).toISOString(),
      })
    }
  }
}

/** An unpaid invoice whose latest attempt is known to have failed (not merely still processing). */
const attemptFailed = ({ invoice, attempt }: InvoiceSnapshot) =>
  invoice.status === 'open' && invoice.attempt_count > 0 && (attempt?.status === 'requires_payment_method' || attempt?.status === 'canceled')

/** The gift made at checkout: a monthly plan's first payment. */
async function firstInstallment(tx: Executor, planId: string) {
  const [first] = await tx
    .select()
    .from(donations)
    .where(and(eq(donations.recurringPlanId, planId), eq(donations.installment, 1)))
  return first
}

const monthMs = 30.4375 * 86_400_000

/**
 * What one paid invoice of a monthly gift gave. Usually the plan's own figures (the chosen amount,
 * plus the fee the donor covers); when Stripe charged something else (finance changed the price
 * in the Dashboard, a proration), the whole charge is the donor's gift, so the totals, the match
 * and the ledger all count what was paid rather than what the plan once said.
 */
function installmentAmounts(
  plan: { amountMinor: number; feeCoveredMinor: number; chargedMinor: number; currency: string },
  invoice: { amount_paid: number; currency: string },
): { amountMinor: number; feeCoveredMinor: number; chargedMinor: number } {
  const { amountMinor, feeCoveredMinor, chargedMinor } = plan
  if (invoice.currency.toUpperCase() !== plan.currency || invoice.amount_paid === chargedMinor) return { amountMinor, feeCoveredMinor, chargedMinor }
  return { amountMinor: invoice.amount_paid, feeCoveredMinor: 0, chargedMinor: invoice.amount_paid }
}

/**
 * The donation for one paid invoice of a monthly gift. The first is the one created at checkout;
 * each later one is created here, numbered by months since the subscription began, so invoices
 * processed out of order still get their own number.
 */
async function installmentDonation(tx: Executor, { invoice, subscription }: InvoiceSnapshot): Promise<string | null> {
  const plan = await planFor(tx, subscription, stripeId(invoice.parent?.subscription_details?.subscription))
  if (!plan) return null
  // An invoice's events (invoice.paid, its charge's refund) can be delivered at the same moment:
  // the plan's lock makes them take turns, so the second finds the gift the first created.
  await tx.select({ id: recurringPlans.id }).from(recurringPlans).where(eq(recurringPlans.id, plan.id)).for('no key update')
  const [existing] = await tx.select({ id: donations.id }).from(donations).where(eq(donations.invoiceId, invoice.id))
  if (existing) return existing.id
  const first = await firstInstallment(tx, plan.id)
  if (!first) return null
  if (invoice.billing_reason === 'subscription_create') {
    await tx.update(donations).set({ invoiceId: invoice.id }).where(eq(donations.id, first.id))
    return first.id
  }
  const start = subscription?.start_date ?? Math.floor(first.createdAt.getTime() / 1000)
  const [latest] = await tx
    .select({ installment: donations.installment })
    .from(donations)
    .where(eq(donations.recurringPlanId, plan.id))
    .orderBy(desc(donations.installment))
    .limit(1)
  let installment = Math.max(2, 1 + Math.round(((invoice.created - start) * 1000) / monthMs))
  const [taken] = await tx
    .select({ id: donations.id })
    .from(donations)
    .where(and(eq(donations.recurringPlanId, plan.id), eq(donations.installment, installment)))
  if (taken) installment = (latest?.installment ?? 1) + 1
  const paidAt = fromUnix(invoice.status_transitions?.paid_at ?? invoice.created)
  const [campaign] = await tx.select({ currency: campaigns.currency }).from(campaigns).where(eq(campaigns.id, plan.campaignId))
  const rate = first.currency === campaign!.currency ? '1' : ((await tableRate(tx, first.currency, campaign!.currency, paidAt)) ?? first.campaignFxRate)
  const paid = installmentAmounts(plan, invoice)
  const [created] = await tx
    .insert(donations)
    .values({
      campaignId: plan.campaignId,
      donorId: plan.donorId,
      fiscalPartnerId: plan.fiscalPartnerId,
      designationId: plan.designationId,
      frequency: 'monthly',
      recurringPlanId: plan.id,
      installment,
      ...paid,
      currency: plan.currency,
      campaignAmountMinor: convertMinor(paid.amountMinor, rate),
      campaignFxRate: rate,
      campaignFxSource: rate === '1' ? 'identity' : 'table',
      tributeType: first.tributeType,
      tributeName: first.tributeName,
      anonymous: first.anonymous,
      donorName: first.donorName,
      donorCountry: first.donorCountry,
      invoiceId: invoice.id,
      createdAt: paidAt,
    })
    .returning({ id: donations.id })
  return created!.id
}

const planStatus: Record<string, 'active' | 'past_due' | 'canceled' | 'abandoned'> = {
  active: 'active',
  trialing: 'active',
  past_due: 'past_due',
  unpaid: 'past_due',
  paused: 'past_due',
  canceled: 'canceled',
  incomplete_expired: 'abandoned',
}

/** Subscription states can go back and forth, so a snapshot only wins if it is the newest seen. */
async function applySubscription(tx: Executor, subscription: Stripe.Subscription, fetchedAt: Date) {
  const plan = await planFor(tx, subscription, subscription.id)
  const status = planStatus[subscription.status]
  if (!plan || !status) return
  const updated = await tx
    .update(recurringPlans)
    .set({
      status,
      stripeSubscriptionId: subscription.id,
      stripeSyncedAt: fetchedAt,
      canceledAt: subscription.canceled_at ? fromUnix(subscription.canceled_at) : null,
    })
    .where(and(eq(recurringPlans.id, plan.id), sql`(${recurringPlans.stripeSyncedAt} is null or ${recurringPlans.stripeSyncedAt} < ${fetchedAt})`))
    .returning({ id: recurringPlans.id })
  // Cancelled is final at Stripe, so this is the one moment the plan ends; the donor hears of it once.
  if (updated.length > 0 && status === 'canceled' && plan.status !== 'canceled') {
    const endedAt = subscription.ended_at ?? subscription.canceled_at
    await enqueueMonthlyGiftEnded(tx, {
      planId: plan.id,
      why: subscription.cancellation_details?.reason === 'payment_failed' ? 'payments_failed' : 'cancelled',
      at: (endedAt ? fromUnix(endedAt) : fetchedAt).toISOString(),
    })
  }
}
