ALTER TABLE "stripe_events" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "processed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "last_error" text;--> statement-breakpoint
CREATE INDEX "stripe_events_due" ON "stripe_events" USING btree ("next_attempt_at","stripe_created_at") WHERE processed_at is null;--> statement-breakpoint
-- Events stored before the inbox were applied in the transaction that stored them.
UPDATE "stripe_events" SET "processed_at" = "received_at" WHERE "processed_at" IS NULL;
--> statement-breakpoint
-- Wakes the event processor (LISTEN stripe_events) when an event is stored, on commit, so the
-- webhook's insert stays a single statement.
CREATE FUNCTION notify_stripe_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stripe_events', NEW.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER stripe_events_notify AFTER INSERT ON "stripe_events"
  FOR EACH ROW EXECUTE FUNCTION notify_stripe_event();
