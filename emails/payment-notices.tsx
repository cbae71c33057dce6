// What a donor is told when money they meant to give does not arrive: a bank debit that failed
// after they left checkout, a monthly payment that did not go through, a monthly gift that ended.
// None of these acknowledges a gift, so none carries the receipt statements; each says what
// happened, what it means for the donor, and where to give again. Plain, already formatted props in.
import { Body, Container, Head, Heading, Hr, Html, Link, Preview, Text } from '@react-email/components'
import type { ReactNode } from 'react'
import { body, container, firstNameOf, heading, link, match, PartnerRegistration, type ReceivingPartner, rule, small, text } from './email-parts.tsx'

interface NoticeFrame {
  donorName: string
  campaignTitle: string
  campaignUrl: string
  partner: ReceivingPartner
}

/** A sentence quoting the reason the bank or card issuer gave, when Stripe passed one on. */
const reasonGiven = (reason: string | null) => (reason ? ` The reason given was: “${reason.trim()}”` : '')

function Notice({ frame, preview, children }: { frame: NoticeFrame; preview: string; children: ReactNode }) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={heading}>
            {`Hello ${firstNameOf(frame.donorName)}`}
          </Heading>
          {children}
          <Text style={text}>
            <Link href={frame.campaignUrl} style={link}>
              {`Give to ${frame.campaignTitle}`}
            </Link>
          </Text>
          <Hr style={rule} />
          <Text style={small}>{`${frame.partner.legalName} funds work to end human trafficking in Thailand.`}</Text>
          <PartnerRegistration partner={frame.partner} />
        </Container>
      </Body>
    </Html>
  )
}

/** The donor and campaign the previews below are written for. */
const previewFrame = {
  donorName: 'Ada Lovelace',
  campaignTitle: 'Aftercare for Survivors of Trafficking in Thailand',
  campaignUrl: 'http://localhost:3000/campaigns/aftercare-thailand',
  partner: { legalName: 'LIFT International', country: 'US', charityNumber: null },
} satisfies NoticeFrame

/** A gift whose payment (a bank debit, still being collected when the donor left checkout) failed. */
export interface PaymentFailedProps extends NoticeFrame {
  /** What the donor meant to pay, formatted with its ISO code. */
  amount: string
  /** The day they gave, where the partner is. */
  givenOn: string
  reason: string | null
  /** The first payment of a monthly gift. */
  monthly: boolean
}

export function paymentFailedSubject(props: Pick<PaymentFailedProps, 'campaignTitle' | 'monthly'>): string {
  return props.monthly
    ? `The first payment of your monthly gift to ${props.campaignTitle} did not go through`
    : `Your gift to ${props.campaignTitle} did not go through`
}

export function PaymentFailed(props: PaymentFailedProps) {
  const what = props.monthly ? 'The first payment of your monthly gift' : 'Your gift'
  return (
    <Notice frame={props} preview={`${what} of ${props.amount} to ${props.campaignTitle} did not go through.`}>
      <Text style={text}>
        {`${what} of ${props.amount} to ${props.campaignTitle}, made on ${props.givenOn}, did not go through: the payment could not be collected.${reasonGiven(props.reason)}`}
      </Text>
      <Text style={text}>
        {props.monthly
          ? 'Your monthly gift has not started. Stripe may try this payment again over the coming days; if a later try goes through, we will thank you for it then and your monthly gift will go on.'
          : 'As nothing was collected, this is not a gift and no receipt applies to it.'}
      </Text>
      <Text style={text}>If you would still like to give, you are welcome to try again, perhaps with another way to pay.</Text>
    </Notice>
  )
}

PaymentFailed.PreviewProps = {
  ...previewFrame,
  amount: '$50.00 USD',
  givenOn: 'March 12, 2026 (EDT)',
  reason: 'The account has insufficient funds.',
  monthly: false,
} satisfies PaymentFailedProps

/** A later payment of a monthly gift that failed; Stripe retries it on its own schedule. */
export interface MonthlyPaymentFailedProps extends NoticeFrame {
  amount: string
  /** The day the payment fell due (its invoice's date), where the partner is. */
  dueOn: string
  reason: string | null
}

export function monthlyPaymentFailedSubject(props: Pick<MonthlyPaymentFailedProps, 'campaignTitle'>): string {
  return `This month's payment to ${props.campaignTitle} did not go through`
}

export function MonthlyPaymentFailed(props: MonthlyPaymentFailedProps) {
  return (
    <Notice frame={props} preview={`This month's payment of ${props.amount} did not go through.`}>
      <Text style={text}>
        {`This month's payment of ${props.amount} for your monthly gift to ${props.campaignTitle}, due on ${props.dueOn}, did not go through.${reasonGiven(props.reason)}`}
      </Text>
      <Text style={text}>
        Your earlier payments are not affected. Stripe, which takes the payments, may try again over the next few days. If the payment cannot
        be taken, your monthly gift may end.
      </Text>
    </Notice>
  )
}

MonthlyPaymentFailed.PreviewProps = {
  ...previewFrame,
  amount: '$20.00 USD',
  dueOn: 'April 12, 2026 (EDT)',
  reason: 'Your card has insufficient funds.',
} satisfies MonthlyPaymentFailedProps

/** Why Stripe ended the subscription behind a monthly gift. */
export const monthlyGiftEndReasons = ['payments_failed', 'cancelled'] as const
export type MonthlyGiftEndReason = (typeof monthlyGiftEndReasons)[number]

export interface MonthlyGiftEndedProps extends NoticeFrame {
  endedOn: string
  why: MonthlyGiftEndReason
  /** Payments of the gift that arrived and still count, and what they came to with its ISO code. */
  payments: number
  given: string
}

export function monthlyGiftEndedSubject(props: Pick<MonthlyGiftEndedProps, 'campaignTitle'>): string {
  return `Your monthly gift to ${props.campaignTitle} has ended`
}

export function MonthlyGiftEnded(props: MonthlyGiftEndedProps) {
  const why = props.why === 'payments_failed' ? ', because its payments could not be taken' : ', as it was cancelled'
  return (
    <Notice frame={props} preview={`Your monthly gift to ${props.campaignTitle} has ended. No further payments will be taken.`}>
      <Text style={text}>{`Your monthly gift to ${props.campaignTitle} ended on ${props.endedOn}${why}. No further payments will be taken.`}</Text>
      {props.payments > 0 ? (
        <>
          <Text style={match}>{`Over ${props.payments === 1 ? 'one monthly payment' : `${props.payments} monthly payments`} you gave ${props.given}. Thank you.`}</Text>
          <Text style={small}>This is not a receipt: the acknowledgement sent for each payment is your record of it.</Text>
        </>
      ) : null}
      <Text style={text}>If you would like to give again, monthly or once, you are always welcome.</Text>
    </Notice>
  )
}

MonthlyGiftEnded.PreviewProps = {
  ...previewFrame,
  endedOn: 'June 12, 2026 (EDT)',
  why: 'payments_failed',
  payments: 3,
  given: '$60.00 USD',
} satisfies MonthlyGiftEndedProps
