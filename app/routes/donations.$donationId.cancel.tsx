// Stripe's cancel_url (a GET) and the review page's "Change my gift" (a POST) both land here:
// end the checkout, free the match, and return to the form with the donor's answers kept; a gift
// already paid, or being paid, goes to its thank-you page instead. Only the donor's own browser
// ends a checkout (decision 0210).
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { z } from 'zod'
import { cancelCheckout } from '#app/models/checkout.server.ts'
import { resumeTokenFor } from '#app/utils/resume-cookie.server.ts'

const ParamsSchema = z.object({ donationId: z.uuid() })

async function cancel({ params, request }: LoaderFunctionArgs | ActionFunctionArgs) {
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success) throw new Response('Gift not found', { status: 404 })
  const cancelled = await cancelCheckout(parsed.data.donationId, await resumeTokenFor(request, parsed.data.donationId))
  if (!cancelled) throw new Response('Gift not found', { status: 404 })
  // A gift already paid (or being paid by bank debit) is not cancelled: its page says where it stands.
  if (cancelled.outcome === 'paid') return redirect(`/donations/${parsed.data.donationId}/thanks`)
  if (cancelled.outcome === 'unavailable') {
    throw new Response('We could not reach our payment processor to cancel this checkout. Nothing has changed; please try again in a moment.', {
      status: 502,
      statusText: 'Bad Gateway',
    })
  }
  // Cancelled, or not this browser's checkout to cancel: either way, back to the form.
  return redirect(`/campaigns/${cancelled.campaignSlug}?resume=${parsed.data.donationId}#donate`)
}

export const loader = cancel
export const action = cancel
