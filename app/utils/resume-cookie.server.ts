// Picking up an unfinished gift: "Change my gift" and Stripe's cancel link return to the campaign
// page with ?resume=<donation id>. That link can be bookmarked or shared with the campaign, so the
// id alone must not bring back the donor's name, email or home address: those come back only in
// the browser that started the checkout, which holds a random secret in an HTTP-only cookie whose
// hash is stored with the donation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createCookie } from '@remix-run/node'
import { z } from 'zod'

const cookie = createCookie('lift_resume', {
  httpOnly: true,
  sameSite: 'lax',
  path: '/',
  // Long enough to come back from Stripe's page (at most a day open), short enough not to linger.
  maxAge: 2 * 86_400,
  secure: process.env.NODE_ENV === 'production',
})

const CookieSchema = z.object({ donationId: z.uuid(), token: z.string().min(32).max(100) })

export function newResumeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashOf(token) }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The Set-Cookie header that lets this browser, and only it, resume the donation. */
export function resumeCookieHeader(donationId: string, token: string): Promise<string> {
  return cookie.serialize({ donationId, token })
}

/** The secret this request's browser holds for `donationId`, if it holds one. */
export async function resumeTokenFor(request: Request, donationId: string): Promise<string | null> {
  const parsed = CookieSchema.safeParse(await cookie.parse(request.headers.get('cookie')).catch(() => null))
  return parsed.success && parsed.data.donationId === donationId ? parsed.data.token : null
}

export function tokenMatches(token: string | null, storedHash: string | null): boolean {
  if (!token || !storedHash) return false
  const given = Buffer.from(hashOf(token), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}
