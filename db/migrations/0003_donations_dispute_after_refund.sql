-- A cardholder can dispute the whole charge after part or all of it was refunded: refunds and
-- disputes are each bounded by the charge, not by it together.
ALTER TABLE "donations" DROP CONSTRAINT "donations_removed";--> statement-breakpoint
ALTER TABLE "donations" ADD CONSTRAINT "donations_removed" CHECK ("donations"."refunded_minor" between 0 and "donations"."charged_minor" and "donations"."disputed_minor" between 0 and "donations"."charged_minor"
          and "donations"."lost_dispute_minor" between 0 and "donations"."disputed_minor");