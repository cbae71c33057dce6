-- The email outbox's own rules (docs/decisions/0301): a sent row records when and through which
-- transport, and nothing else carries a send time.
ALTER TABLE "email_outbox" ADD CONSTRAINT "email_outbox_sent" CHECK (("email_outbox"."status" = 'sent') = ("email_outbox"."sent_at" is not null and "email_outbox"."transport" is not null));--> statement-breakpoint
ALTER TABLE "email_outbox" ADD CONSTRAINT "email_outbox_transport" CHECK ("email_outbox"."transport" in ('resend', 'outbox'));--> statement-breakpoint
ALTER TABLE "email_outbox" ADD CONSTRAINT "email_outbox_attempts" CHECK ("email_outbox"."attempts" >= 0);