CREATE TABLE "campaigns" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "campaigns_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"story_markdown" text NOT NULL,
	"currency" text NOT NULL,
	"donor_target_minor" bigint NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"default_designation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaigns_slug_unique" UNIQUE("slug"),
	CONSTRAINT "campaigns_slug" CHECK ("campaigns"."slug" ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
	CONSTRAINT "campaigns_status" CHECK ("campaigns"."status" in ('draft', 'live', 'closed')),
	CONSTRAINT "campaigns_target" CHECK ("campaigns"."donor_target_minor" >= 0),
	CONSTRAINT "campaigns_window" CHECK ("campaigns"."ends_at" > "campaigns"."starts_at"),
	CONSTRAINT "campaigns_currency" CHECK ("campaigns"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "designations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"restricted" boolean NOT NULL,
	"sort_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "designations_slug" CHECK ("designations"."id" ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
);
--> statement-breakpoint
CREATE TABLE "fiscal_partner_fees" (
	"fiscal_partner_id" text NOT NULL,
	"currency" text NOT NULL,
	"percent_bps" integer NOT NULL,
	"fixed_minor" integer NOT NULL,
	CONSTRAINT "fiscal_partner_fees_fiscal_partner_id_currency_pk" PRIMARY KEY("fiscal_partner_id","currency"),
	CONSTRAINT "fiscal_partner_fees_range" CHECK ("fiscal_partner_fees"."percent_bps" between 0 and 2000 and "fiscal_partner_fees"."fixed_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "fiscal_partners" (
	"id" text PRIMARY KEY NOT NULL,
	"legal_name" text NOT NULL,
	"display_name" text NOT NULL,
	"country" text NOT NULL,
	"currency" text NOT NULL,
	"registration_numbers" jsonb NOT NULL,
	"receipt_prefix" text NOT NULL,
	"is_home" boolean DEFAULT false NOT NULL,
	"fee_policy" text DEFAULT 'designation' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fiscal_partners_receipt_prefix_unique" UNIQUE("receipt_prefix"),
	CONSTRAINT "fiscal_partners_fee_policy" CHECK ("fiscal_partners"."fee_policy" in ('designation', 'unrestricted')),
	CONSTRAINT "fiscal_partners_currency" CHECK ("fiscal_partners"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "fx_rates" (
	"base" text NOT NULL,
	"quote" text NOT NULL,
	"effective_on" date NOT NULL,
	"rate" numeric(18, 8) NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fx_rates_base_quote_effective_on_pk" PRIMARY KEY("base","quote","effective_on"),
	CONSTRAINT "fx_rates_positive" CHECK ("fx_rates"."rate" > 0)
);
--> statement-breakpoint
CREATE TABLE "match_pledges" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "match_pledges_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"campaign_id" integer NOT NULL,
	"partner_organisation_id" integer NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"currency" text NOT NULL,
	"cap_minor" bigint NOT NULL,
	"ratio_num" integer DEFAULT 1 NOT NULL,
	"ratio_den" integer DEFAULT 1 NOT NULL,
	"priority" integer NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"per_gift_max_minor" bigint,
	"per_donor_max_minor" bigint,
	"designation_ids" text[],
	"matched_installments" integer,
	"unlock_min_raised_minor" bigint,
	"unlock_min_donors" integer,
	"unlocked_at" timestamp with time zone,
	"leftover_policy" text DEFAULT 'return' NOT NULL,
	"closed_at" timestamp with time zone,
	"leftover_minor" bigint,
	"matched_minor" bigint DEFAULT 0 NOT NULL,
	"reserved_minor" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "match_pledges_cap" CHECK ("match_pledges"."cap_minor" > 0),
	CONSTRAINT "match_pledges_ratio" CHECK ("match_pledges"."ratio_num" > 0 and "match_pledges"."ratio_den" > 0),
	CONSTRAINT "match_pledges_window" CHECK ("match_pledges"."ends_at" > "match_pledges"."starts_at"),
	CONSTRAINT "match_pledges_within_cap" CHECK ("match_pledges"."matched_minor" >= 0 and "match_pledges"."reserved_minor" >= 0 and "match_pledges"."matched_minor" + "match_pledges"."reserved_minor" <= "match_pledges"."cap_minor"),
	CONSTRAINT "match_pledges_leftover_policy" CHECK ("match_pledges"."leftover_policy" in ('return', 'donate')),
	CONSTRAINT "match_pledges_limits" CHECK (coalesce("match_pledges"."per_gift_max_minor", 1) > 0 and coalesce("match_pledges"."per_donor_max_minor", 1) > 0 and coalesce("match_pledges"."matched_installments", 1) > 0)
);
--> statement-breakpoint
CREATE TABLE "partner_organisations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "partner_organisations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"website_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partner_organisations_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"id" text PRIMARY KEY NOT NULL,
	"donation_id" uuid NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "donations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" integer NOT NULL,
	"donor_id" integer NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"designation_id" text NOT NULL,
	"frequency" text NOT NULL,
	"recurring_plan_id" uuid,
	"installment" integer DEFAULT 1 NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"amount_minor" bigint NOT NULL,
	"fee_covered_minor" bigint DEFAULT 0 NOT NULL,
	"charged_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"campaign_amount_minor" bigint NOT NULL,
	"campaign_fx_rate" numeric(18, 8) DEFAULT '1' NOT NULL,
	"campaign_fx_source" text DEFAULT 'identity' NOT NULL,
	"counted_minor" bigint DEFAULT 0 NOT NULL,
	"match_shortfall_minor" bigint DEFAULT 0 NOT NULL,
	"refunded_minor" bigint DEFAULT 0 NOT NULL,
	"disputed_minor" bigint DEFAULT 0 NOT NULL,
	"lost_dispute_minor" bigint DEFAULT 0 NOT NULL,
	"tribute_type" text,
	"tribute_name" text,
	"anonymous" boolean DEFAULT false NOT NULL,
	"donor_country" text NOT NULL,
	"checkout_session_id" text,
	"checkout_url" text,
	"checkout_expires_at" timestamp with time zone,
	"payment_intent_id" text,
	"charge_id" text,
	"invoice_id" text,
	"failure_reason" text,
	"balance_transaction_id" text,
	"settled_amount_minor" bigint,
	"settled_fee_minor" bigint,
	"settled_net_minor" bigint,
	"settlement_currency" text,
	"exchange_rate" numeric(18, 8),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "donations_checkout_session_id_unique" UNIQUE("checkout_session_id"),
	CONSTRAINT "donations_payment_intent_id_unique" UNIQUE("payment_intent_id"),
	CONSTRAINT "donations_charge_id_unique" UNIQUE("charge_id"),
	CONSTRAINT "donations_invoice_id_unique" UNIQUE("invoice_id"),
	CONSTRAINT "donations_balance_transaction_id_unique" UNIQUE("balance_transaction_id"),
	CONSTRAINT "donations_charged" CHECK ("donations"."charged_minor" = "donations"."amount_minor" + "donations"."fee_covered_minor"),
	CONSTRAINT "donations_amounts" CHECK ("donations"."amount_minor" > 0 and "donations"."fee_covered_minor" >= 0 and "donations"."campaign_amount_minor" >= 0),
	CONSTRAINT "donations_removed" CHECK ("donations"."refunded_minor" >= 0 and "donations"."disputed_minor" >= 0 and "donations"."lost_dispute_minor" between 0 and "donations"."disputed_minor"
          and "donations"."refunded_minor" + "donations"."disputed_minor" <= "donations"."charged_minor"),
	CONSTRAINT "donations_counters" CHECK ("donations"."counted_minor" >= 0 and "donations"."match_shortfall_minor" >= 0),
	CONSTRAINT "donations_tribute" CHECK (("donations"."tribute_type" is null) = ("donations"."tribute_name" is null)),
	CONSTRAINT "donations_installment" CHECK ("donations"."installment" >= 1 and ("donations"."recurring_plan_id" is not null or "donations"."installment" = 1))
);
--> statement-breakpoint
CREATE TABLE "donors" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "donors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"email" text NOT NULL,
	"name" text NOT NULL,
	"country" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "donors_email_lower" CHECK ("donors"."email" = lower("donors"."email"))
);
--> statement-breakpoint
CREATE TABLE "gift_aid_declarations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gift_aid_declarations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"donation_id" uuid NOT NULL,
	"donor_id" integer NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"scope" text NOT NULL,
	"wording_version" text NOT NULL,
	"wording_text" text NOT NULL,
	"title" text,
	"first_name" text NOT NULL,
	"last_name" text NOT NULL,
	"house_name_or_number" text NOT NULL,
	"address_line" text NOT NULL,
	"postcode" text NOT NULL,
	"declared_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "gift_aid_declarations_donation_id_unique" UNIQUE("donation_id")
);
--> statement-breakpoint
CREATE TABLE "recurring_plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" integer NOT NULL,
	"donor_id" integer NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"designation_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"fee_covered_minor" bigint DEFAULT 0 NOT NULL,
	"charged_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"stripe_subscription_id" text,
	"stripe_customer_id" text,
	"stripe_synced_at" timestamp with time zone,
	"failed_payment_count" integer DEFAULT 0 NOT NULL,
	"last_payment_error" text,
	"canceled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recurring_plans_stripe_subscription_id_unique" UNIQUE("stripe_subscription_id"),
	CONSTRAINT "recurring_plans_charged" CHECK ("recurring_plans"."charged_minor" = "recurring_plans"."amount_minor" + "recurring_plans"."fee_covered_minor")
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"id" text PRIMARY KEY NOT NULL,
	"donation_id" uuid NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"balance_transaction_id" text,
	"failure_balance_transaction_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_accounts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"fiscal_partner_id" text NOT NULL,
	"currency" text NOT NULL,
	"path" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_path" UNIQUE("fiscal_partner_id","currency","path"),
	CONSTRAINT "ledger_accounts_scope" UNIQUE("id","fiscal_partner_id","currency"),
	CONSTRAINT "ledger_accounts_path_shape" CHECK ("ledger_accounts"."path" ~ '^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)*$'),
	CONSTRAINT "ledger_accounts_currency" CHECK ("ledger_accounts"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_entries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"fiscal_partner_id" text NOT NULL,
	"currency" text NOT NULL,
	"kind" text NOT NULL,
	"source_key" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reverses_entry_id" bigint,
	"campaign_id" integer,
	"donation_id" uuid,
	"campaign_value_minor" bigint,
	"created_by" text DEFAULT 'system' NOT NULL,
	"reason" text,
	"metadata" jsonb,
	CONSTRAINT "ledger_entries_source" UNIQUE("kind","source_key"),
	CONSTRAINT "ledger_entries_scope" UNIQUE("id","fiscal_partner_id","currency","effective_at"),
	CONSTRAINT "ledger_entries_kind" CHECK ("ledger_entries"."kind" in ('gift', 'refund', 'refund_failure', 'dispute_withdrawal', 'dispute_reinstatement', 'payout', 'payout_failure', 'stripe_other', 'match', 'match_reversal', 'match_leftover', 'match_payment', 'redesignation', 'release', 'gift_aid_claim', 'gift_aid_receipt', 'correction'))
);
--> statement-breakpoint
CREATE TABLE "ledger_postings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_postings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"entry_id" bigint NOT NULL,
	"account_id" bigint NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"currency" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"amount_minor" bigint NOT NULL,
	CONSTRAINT "ledger_postings_nonzero" CHECK ("ledger_postings"."amount_minor" <> 0)
);
--> statement-breakpoint
CREATE TABLE "campaign_donors" (
	"campaign_id" integer NOT NULL,
	"donor_id" integer NOT NULL,
	"counted_minor" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "campaign_donors_campaign_id_donor_id_pk" PRIMARY KEY("campaign_id","donor_id"),
	CONSTRAINT "campaign_donors_positive" CHECK ("campaign_donors"."counted_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "campaign_totals" (
	"campaign_id" integer PRIMARY KEY NOT NULL,
	"raised_gifts_minor" bigint DEFAULT 0 NOT NULL,
	"matched_minor" bigint DEFAULT 0 NOT NULL,
	"donors_count" integer DEFAULT 0 NOT NULL,
	"gifts_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaign_totals_positive" CHECK ("campaign_totals"."raised_gifts_minor" >= 0 and "campaign_totals"."matched_minor" >= 0 and "campaign_totals"."donors_count" >= 0 and "campaign_totals"."gifts_count" >= 0)
);
--> statement-breakpoint
CREATE TABLE "match_pledge_donors" (
	"pledge_id" integer NOT NULL,
	"donor_id" integer NOT NULL,
	"matched_minor" bigint DEFAULT 0 NOT NULL,
	"reserved_minor" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "match_pledge_donors_pledge_id_donor_id_pk" PRIMARY KEY("pledge_id","donor_id"),
	CONSTRAINT "match_pledge_donors_positive" CHECK ("match_pledge_donors"."matched_minor" >= 0 and "match_pledge_donors"."reserved_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "match_reservations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "match_reservations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"pledge_id" integer NOT NULL,
	"donation_id" uuid NOT NULL,
	"donor_id" integer NOT NULL,
	"amount_minor" bigint NOT NULL,
	"portion_minor" bigint NOT NULL,
	"status" text DEFAULT 'held' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "match_reservations_positive" CHECK ("match_reservations"."amount_minor" > 0 and "match_reservations"."portion_minor" > 0)
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "matches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"pledge_id" integer NOT NULL,
	"donation_id" uuid,
	"donor_id" integer,
	"kind" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"portion_minor" bigint NOT NULL,
	"source_key" text NOT NULL,
	"note" text NOT NULL,
	"ledger_entry_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "matches_sign" CHECK (("matches"."kind" = 'reversed' and "matches"."amount_minor" < 0 and "matches"."portion_minor" <= 0)
          or ("matches"."kind" <> 'reversed' and "matches"."amount_minor" > 0 and "matches"."portion_minor" >= 0)),
	CONSTRAINT "matches_donation" CHECK (("matches"."kind" = 'leftover') = ("matches"."donation_id" is null))
);
--> statement-breakpoint
CREATE TABLE "email_outbox" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "email_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"dedupe_key" text NOT NULL,
	"template" text NOT NULL,
	"to_address" text NOT NULL,
	"props" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"send_after" timestamp with time zone DEFAULT now() NOT NULL,
	"subject" text,
	"html" text,
	"text" text,
	"transport" text,
	"provider_message_id" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "email_outbox_dedupe_key_unique" UNIQUE("dedupe_key"),
	CONSTRAINT "email_outbox_status" CHECK ("email_outbox"."status" in ('queued', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "payouts" (
	"id" text PRIMARY KEY NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"arrival_date" timestamp with time zone,
	"balance_transaction_id" text,
	"failure_balance_transaction_id" text,
	"failure_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_hits" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"hits" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limit_hits_key_window_start_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
CREATE TABLE "refused_requests" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "refused_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"reason" text NOT NULL,
	"route" text NOT NULL,
	"ip" text,
	"email" text,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"fiscal_partner_id" text NOT NULL,
	"type" text NOT NULL,
	"api_version" text,
	"livemode" boolean NOT NULL,
	"stripe_created_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_default_designation_id_designations_id_fk" FOREIGN KEY ("default_designation_id") REFERENCES "public"."designations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fiscal_partner_fees" ADD CONSTRAINT "fiscal_partner_fees_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_pledges" ADD CONSTRAINT "match_pledges_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_pledges" ADD CONSTRAINT "match_pledges_partner_organisation_id_partner_organisations_id_fk" FOREIGN KEY ("partner_organisation_id") REFERENCES "public"."partner_organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_pledges" ADD CONSTRAINT "match_pledges_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_designation_id_designations_id_fk" FOREIGN KEY ("designation_id") REFERENCES "public"."designations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_recurring_plan_id_recurring_plans_id_fk" FOREIGN KEY ("recurring_plan_id") REFERENCES "public"."recurring_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gift_aid_declarations" ADD CONSTRAINT "gift_aid_declarations_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gift_aid_declarations" ADD CONSTRAINT "gift_aid_declarations_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gift_aid_declarations" ADD CONSTRAINT "gift_aid_declarations_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_plans" ADD CONSTRAINT "recurring_plans_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_plans" ADD CONSTRAINT "recurring_plans_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_plans" ADD CONSTRAINT "recurring_plans_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_plans" ADD CONSTRAINT "recurring_plans_designation_id_designations_id_fk" FOREIGN KEY ("designation_id") REFERENCES "public"."designations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_reverses" FOREIGN KEY ("reverses_entry_id") REFERENCES "public"."ledger_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_entry" FOREIGN KEY ("entry_id","fiscal_partner_id","currency","effective_at") REFERENCES "public"."ledger_entries"("id","fiscal_partner_id","currency","effective_at") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_account" FOREIGN KEY ("account_id","fiscal_partner_id","currency") REFERENCES "public"."ledger_accounts"("id","fiscal_partner_id","currency") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_donors" ADD CONSTRAINT "campaign_donors_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_donors" ADD CONSTRAINT "campaign_donors_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_totals" ADD CONSTRAINT "campaign_totals_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_pledge_donors" ADD CONSTRAINT "match_pledge_donors_pledge_id_match_pledges_id_fk" FOREIGN KEY ("pledge_id") REFERENCES "public"."match_pledges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_pledge_donors" ADD CONSTRAINT "match_pledge_donors_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_reservations" ADD CONSTRAINT "match_reservations_pledge_id_match_pledges_id_fk" FOREIGN KEY ("pledge_id") REFERENCES "public"."match_pledges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_reservations" ADD CONSTRAINT "match_reservations_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "match_reservations" ADD CONSTRAINT "match_reservations_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_pledge_id_match_pledges_id_fk" FOREIGN KEY ("pledge_id") REFERENCES "public"."match_pledges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_donation_id_donations_id_fk" FOREIGN KEY ("donation_id") REFERENCES "public"."donations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_donor_id_donors_id_fk" FOREIGN KEY ("donor_id") REFERENCES "public"."donors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD CONSTRAINT "stripe_events_fiscal_partner_id_fiscal_partners_id_fk" FOREIGN KEY ("fiscal_partner_id") REFERENCES "public"."fiscal_partners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fiscal_partners_one_home" ON "fiscal_partners" USING btree ("is_home") WHERE "fiscal_partners"."is_home";--> statement-breakpoint
CREATE UNIQUE INDEX "match_pledges_campaign_priority" ON "match_pledges" USING btree ("campaign_id","priority");--> statement-breakpoint
CREATE UNIQUE INDEX "donations_plan_installment" ON "donations" USING btree ("recurring_plan_id","installment");--> statement-breakpoint
CREATE INDEX "donations_campaign_settled" ON "donations" USING btree ("campaign_id","settled_at");--> statement-breakpoint
CREATE INDEX "donations_shortfall" ON "donations" USING btree ("campaign_id","settled_at") WHERE "donations"."match_shortfall_minor" > 0;--> statement-breakpoint
CREATE INDEX "donations_donor" ON "donations" USING btree ("donor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "donors_email" ON "donors" USING btree ("email");--> statement-breakpoint
CREATE INDEX "ledger_entries_campaign" ON "ledger_entries" USING btree ("campaign_id","effective_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_donation" ON "ledger_entries" USING btree ("donation_id");--> statement-breakpoint
CREATE INDEX "ledger_postings_entry" ON "ledger_postings" USING btree ("entry_id");--> statement-breakpoint
CREATE UNIQUE INDEX "match_reservations_pledge_donation" ON "match_reservations" USING btree ("pledge_id","donation_id");--> statement-breakpoint
CREATE INDEX "match_reservations_held" ON "match_reservations" USING btree ("pledge_id","expires_at") WHERE "match_reservations"."status" = 'held';--> statement-breakpoint
CREATE UNIQUE INDEX "matches_source" ON "matches" USING btree ("pledge_id","source_key");--> statement-breakpoint
CREATE INDEX "matches_donation" ON "matches" USING btree ("donation_id");--> statement-breakpoint
CREATE INDEX "email_outbox_due" ON "email_outbox" USING btree ("send_after") WHERE "email_outbox"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "refused_requests_created" ON "refused_requests" USING btree ("created_at");