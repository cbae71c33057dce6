// Every environment variable the app reads, checked once at boot by one schema. A failure
// names each variable that is wrong and why, instead of failing later inside a request.
import { z } from 'zod'

export const fiscalPartnerIds = ['us', 'uk', 'nz'] as const
export type FiscalPartnerId = (typeof fiscalPartnerIds)[number]

const proxyHops = 'must be the number of proxies in front of the app, such as 1 (0 or false: none; "true" would let any client choose its own address)'

const stripeKeys = Object.fromEntries(
  fiscalPartnerIds.flatMap((id) => [
    [
      `STRIPE_SECRET_KEY_${id.toUpperCase()}`,
      z
        .string()
        .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_…, sk_live_… or rk_…)')
        .optional(),
    ],
    [
      `STRIPE_WEBHOOK_SECRET_${id.toUpperCase()}`,
      z.string().regex(/^whsec_\w+$/, 'must be a webhook signing secret (whsec_…)').optional(),
    ],
  ]),
) as Record<`STRIPE_${'SECRET_KEY' | 'WEBHOOK_SECRET'}_${Uppercase<FiscalPartnerId>}`, z.ZodOptional<z.ZodString>>

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    /** The public origin, for links in emails and Stripe's return URLs. */
    APP_URL: z.url({ error: 'must be an absolute URL such as https://give.liftinternational.org' }).optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
      .optional(),
    /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set. */
    DATA_DIR: z.string().default('.data'),
    RESEND_API_KEY: z.string().regex(/^re_\w+$/, 'must be a Resend API key (re_…)').optional(),
    /** The sender of every email: "Name <address>" or a bare address, on a domain verified in Resend. */
    EMAIL_FROM: z
      .string()
      .regex(/^(?:[^<>]+<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, 'must be an address such as "LIFT International <giving@liftinternational.org>"')
      .default('LIFT International <giving@liftinternational.org>'),
    /**
     * Where the Stripe clients send their requests when no keys are configured: the offline
     * sandbox's fake Stripe, an address the server sets for itself (scripts/serve.ts).
     */
    STRIPE_API_URL: z.url({ error: 'must be an absolute URL such as http://127.0.0.1:12111' }).optional(),
    /**
     * How many proxies in front of the app append to X-Forwarded-For. The client's address is the
     * one the outermost of them saw; anything further left the client wrote itself, so "trust all"
     * would let a card tester pick a new address for every request.
     */
    TRUST_PROXY: z
      .union([z.literal('false').transform(() => 0), z.coerce.number().int(proxyHops).min(0, proxyHops).max(10, proxyHops)], { error: proxyHops })
      .default(0),
    /** Processes serving the port (scripts/serve.ts); production defaults to one per CPU core. */
    WEB_CONCURRENCY: z.coerce.number({ error: 'must be a whole number of processes, such as 2' }).int('must be a whole number of processes, such as 2').min(1, 'must be at least 1').max(64, 'must be at most 64').optional(),
    ...stripeKeys,
  })
  .superRefine((env, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
    const configured = fiscalPartnerIds.filter((id) => env[`STRIPE_SECRET_KEY_${upper(id)}`])
    const live = env.NODE_ENV === 'production'
    // Stripe: every fiscal partner has its own account, so either all are configured or none
    // is (the offline sandbox, which production refuses).
    if (configured.length > 0 || live) {
      for (const id of fiscalPartnerIds) {
        for (const name of [`STRIPE_SECRET_KEY_${upper(id)}`, `STRIPE_WEBHOOK_SECRET_${upper(id)}`] as const) {
          if (!env[name]) {
            problem(
              name,
              live
                ? 'is required in production: each fiscal partner charges through its own Stripe account (the offline sandbox only runs in development and test)'
                : `is missing: configure Stripe for all fiscal partners (${fiscalPartnerIds.join(', ')}) or for none to use the offline sandbox`,
            )
          }
        }
      }
    }
    // Keys always talk to Stripe itself: a stand-in must never receive a real key or real money.
    if (env.STRIPE_API_URL && (configured.length > 0 || live)) {
      problem('STRIPE_API_URL', 'is only for the offline sandbox: with Stripe keys (and in production) the clients talk to Stripe itself')
    }
    if (live && !env.RESEND_API_KEY) {
      problem('RESEND_API_KEY', 'is required in production: without it mail would only reach the dev outbox')
    }
    if (live && !env.APP_URL) {
      problem('APP_URL', 'is required in production: Stripe return links and emails need the public address')
    }
  })

export type Env = z.infer<typeof EnvSchema>

function upper<T extends string>(value: T): Uppercase<T> {
  return value.toUpperCase() as Uppercase<T>
}

export class EnvError extends Error {
  override name = 'EnvError'
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(env)'} ${issue.message}`)
  throw new EnvError(`The environment is not valid:\n${lines.join('\n')}\n(see README.md, "Configuration")`)
}

let cached: Env | undefined

export function getEnv(): Env {
  return (cached ??= parseEnv(process.env))
}

/** The origin users reach the app at. */
export function getAppUrl(env: Env = getEnv()): string {
  return (env.APP_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '')
}
