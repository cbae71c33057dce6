// The donor's thank-you for a settled gift: the named fiscal partner's acknowledgement of it, sent
// by email. No receipt document is issued today, so the email promises none; it carries the
// statements the receiving entity's country asks of a letter acknowledging a gift (shared/receipts.md):
// the US goods-or-services statement and discretion over designated funds, the UK registered
// charity statement. The match is never shown as part of the donor's gift. A gift of which nothing
// is left by the time the email is sent gets GiftReversed below instead: there is no gift to thank.
// Plain, already formatted props in; no data fetching.
import { Body, Container, Head, Heading, Hr, Html, Link, Preview, Section, Text } from '@react-email/components'
import { body, container, firstNameOf, heading, link, match, notice, PartnerRegistration, type ReceivingPartner, rule, small, text } from './email-parts.tsx'

export interface GiftThankYouProps {
  donorName: string
  /**
   * The gift, formatted with its ISO code ("$103.30 USD"): the whole charge, a card fee the donor
   * covered included, less anything refunded or withdrawn by a dispute before this email.
   */
  amount: string
  /** When the donor covered the card fee and nothing was taken back: the fee, and what the partner receives in full. */
  feeCovered: { fee: string; net: string } | null
  /** What was taken back before this email, each part out of the whole charge. */
  removed: { charged: string; refunded: string | null; disputed: string | null } | null
  campaignTitle: string
  campaignUrl: string
  designation: string
  /** Each match partner and what it added, in the campaign's currency. */
  matches: { partner: string; amount: string }[]
  monthly: boolean
  /** 1 for a one-off gift and a monthly gift's first payment, then 2, 3 … */
  installment: number
  partner: ReceivingPartner
  /** The day the payment settled where the partner is, with its zone: "December 31, 2025 (EST)". */
  settledOn: string
  tribute: { type: 'honour' | 'memory'; name: string } | null
  anonymous: boolean
}

export function giftThankYouSubject(props: Pick<GiftThankYouProps, 'monthly' | 'installment' | 'campaignTitle'>): string {
  if (props.monthly && props.installment > 1) return `Thank you for this month's gift to ${props.campaignTitle}`
  return `Thank you for your ${props.monthly ? 'monthly ' : ''}gift to ${props.campaignTitle}`
}

export function GiftThankYou(props: GiftThankYouProps) {
  const kind = props.monthly ? (props.installment > 1 ? `monthly gift (payment ${props.installment})` : 'first monthly gift') : 'gift'
  const us = props.partner.country === 'US'
  return (
    <Html lang="en">
      <Head />
      <Preview>{`Your ${kind} of ${props.amount} to ${props.campaignTitle} has arrived. Thank you.`}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={heading}>
            {`Thank you, ${firstNameOf(props.donorName)}`}
          </Heading>
          <Text style={text}>
            {`Your ${kind} of `}
            <strong>{props.amount}</strong>
            {' to '}
            <strong>{props.campaignTitle}</strong>
            {` arrived on ${props.settledOn}. It goes to `}
            <strong>{props.designation}</strong>
            {props.tribute ? ` in ${props.tribute.type} of ${props.tribute.name}.` : '.'}
          </Text>
          {props.feeCovered ? (
            <Text style={text}>
              {`Of this, ${props.feeCovered.fee} covers card fees, so that ${props.partner.legalName} receives the full ${props.feeCovered.net}.`}
            </Text>
          ) : null}
          {props.removed?.refunded ? (
            <Text style={text}>{`${props.removed.refunded} of the ${props.removed.charged} you paid was refunded to you, so it is not part of your gift.`}</Text>
          ) : null}
          {props.removed?.disputed ? (
            <Text style={text}>
              {`${props.removed.disputed} of the ${props.removed.charged} you paid was taken back through a dispute with your card issuer, so it is not part of your gift.`}
            </Text>
          ) : null}
          {props.matches.length > 0 ? (
            <Section>
              {props.matches.map((m) => (
                <Text key={m.partner} style={match}>
                  {`${m.partner} added ${m.amount}.`}
                </Text>
              ))}
              <Text style={small}>Match funding is the match partner&apos;s own gift, so it is not part of your gift.</Text>
            </Section>
          ) : null}
          {props.monthly ? (
            <Text style={text}>
              {props.installment > 1
                ? 'Thank you for giving every month. We will thank you for each payment as it arrives.'
                : 'Thank you for choosing to give every month. We will thank you for each payment as it arrives.'}
            </Text>
          ) : null}
          {props.anonymous ? (
            <Text style={text}>As you asked, your name is not shown on the campaign page or to match partners.</Text>
          ) : null}
          <Text style={text}>
            <Link href={props.campaignUrl} style={link}>
              See how the campaign is going
            </Link>
          </Text>
          <Hr style={rule} />
          <Text style={notice}>{`This email is ${props.partner.legalName}'s acknowledgement of your gift. Please keep it for your records.`}</Text>
          {/* IRC 170(f)(8): without this statement a US donor cannot deduct a gift of $250 or more.
              Printed on every US gift, so no amount threshold can leave it out. */}
          {us ? <NoGoodsOrServices /> : null}
          {/* The partner is the donee; the Thai programme is what it funds (receipts.md §0). A US
              gift earmarked for a foreign programme is not deductible, so a designation is only
              the donor's preference (Rev. Rul. 63-252, 66-79). */}
          <Text style={small}>{`Your gift was made to ${props.partner.legalName}, which funds work to end human trafficking in Thailand.`}</Text>
          {us ? (
            <Text style={small}>
              {`Your designation is honoured as your preference; ${props.partner.legalName} keeps full discretion and control over the use of all funds it receives.`}
            </Text>
          ) : null}
          <PartnerRegistration partner={props.partner} />
        </Container>
      </Body>
    </Html>
  )
}

/** IRC 170(f)(8): the US partner's written acknowledgement says no goods or services were given for the gift. */
function NoGoodsOrServices() {
  return <Text style={notice}>No goods or services were provided in exchange for this contribution.</Text>
}

GiftThankYou.PreviewProps = {
  donorName: 'Ada Lovelace',
  amount: '$103.50 USD',
  feeCovered: { fee: '$3.50 USD', net: '$100.00 USD' },
  removed: null,
  campaignTitle: 'Aftercare for Survivors of Trafficking in Thailand',
  campaignUrl: 'http://localhost:3000/campaigns/aftercare-thailand',
  designation: 'Survivor Fund',
  matches: [{ partner: "One Day's Wages", amount: '$100.00 USD' }],
  monthly: false,
  installment: 1,
  partner: { legalName: 'LIFT International', country: 'US', charityNumber: null },
  settledOn: 'March 12, 2026 (EDT)',
  tribute: null,
  anonymous: false,
} satisfies GiftThankYouProps

export default GiftThankYou

/**
 * Sent in place of the thank-you when the whole payment was refunded or withdrawn by a dispute
 * before the thank-you went out: nothing was given, so nothing is acknowledged.
 */
export interface GiftReversedProps {
  donorName: string
  /** The whole charge, formatted with its ISO code. */
  charged: string
  /** How much of it was refunded and how much withdrawn by a dispute; at least one is set. */
  refunded: string | null
  disputed: string | null
  campaignTitle: string
  partner: ReceivingPartner
  settledOn: string
}

export function giftReversedSubject(props: Pick<GiftReversedProps, 'campaignTitle' | 'disputed'>): string {
  return `Your payment to ${props.campaignTitle} was ${props.disputed ? 'taken back' : 'refunded'}`
}

function howReversed(props: GiftReversedProps): string {
  const dispute = 'through a dispute with your card issuer'
  if (props.refunded && props.disputed) return `${props.refunded} of it was refunded to you and ${props.disputed} taken back ${dispute}`
  return props.disputed ? `it was taken back in full ${dispute}` : 'it was refunded to you in full'
}

export function GiftReversed(props: GiftReversedProps) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{`Your payment of ${props.charged} to ${props.campaignTitle} was ${props.disputed ? 'taken back' : 'refunded'}.`}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={heading}>
            {`Hello ${firstNameOf(props.donorName)}`}
          </Heading>
          <Text style={text}>
            {`${props.partner.legalName} received your payment of ${props.charged} to ${props.campaignTitle} on ${props.settledOn}, and ${howReversed(props)}.`}
          </Text>
          <Text style={text}>
            Nothing of it remains as a gift, so this email does not acknowledge a gift and no receipt applies to it. Please do not count it as a
            gift for tax.
          </Text>
          <Hr style={rule} />
          <PartnerRegistration partner={props.partner} />
        </Container>
      </Body>
    </Html>
  )
}

/** A change to what the donor gave, after their acknowledgement may have gone out. */
export const giftChangeKinds = ['refund', 'refund_failure', 'dispute_withdrawal', 'dispute_reinstatement'] as const
export type GiftChangeKind = (typeof giftChangeKinds)[number]

/**
 * Sent when money moves on a gift whose acknowledgement may already be in the donor's inbox, so
 * that no acknowledgement outlives the gift it describes: it says what moved, and what the gift
 * stands at now.
 */
export interface GiftChangedProps {
  donorName: string
  campaignTitle: string
  partner: ReceivingPartner
  kind: GiftChangeKind
  /** What moved, formatted with its ISO code. */
  amount: string
  /** When it moved, where the partner is. */
  on: string
  /** The whole charge and what remains of it now, formatted with their ISO codes. */
  charged: string
  remaining: string
  /** Nothing of the payment remains as a gift. */
  nothingRemains: boolean
}

const changeWording: Record<GiftChangeKind, (p: GiftChangedProps) => string> = {
  refund: (p) => `${p.amount} of your payment to ${p.campaignTitle} was refunded to you on ${p.on}.`,
  refund_failure: (p) => `A refund of ${p.amount} from your payment to ${p.campaignTitle} did not go through, so on ${p.on} that money came back to ${p.partner.legalName} and is part of your gift again.`,
  dispute_withdrawal: (p) => `${p.amount} of your payment to ${p.campaignTitle} was taken back through a dispute with your card issuer on ${p.on}.`,
  dispute_reinstatement: (p) => `A dispute about your payment to ${p.campaignTitle} was decided in ${p.partner.legalName}'s favour, so on ${p.on} ${p.amount} came back and is part of your gift again.`,
}

export function giftChangedSubject(props: Pick<GiftChangedProps, 'campaignTitle'>): string {
  return `A change to your gift to ${props.campaignTitle}`
}

export function GiftChanged(props: GiftChangedProps) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{changeWording[props.kind](props)}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={heading}>
            {`Hello ${firstNameOf(props.donorName)}`}
          </Heading>
          <Text style={text}>{changeWording[props.kind](props)}</Text>
          {props.nothingRemains ? (
            <Text style={text}>
              {`Nothing of the ${props.charged} you paid remains as a gift, so no acknowledgement or receipt applies to it. Please do not count it as a gift for tax.`}
            </Text>
          ) : (
            <Text style={match}>{`Your gift now stands at ${props.remaining} of the ${props.charged} you paid.`}</Text>
          )}
          <Hr style={rule} />
          <Text style={notice}>
            {`This replaces any earlier acknowledgement of this gift from ${props.partner.legalName}. Please keep this email for your records.`}
          </Text>
          {props.partner.country === 'US' && !props.nothingRemains ? (
            <NoGoodsOrServices />
          ) : null}
          <PartnerRegistration partner={props.partner} />
        </Container>
      </Body>
    </Html>
  )
}
