-- The webhook stores a burst of deliveries with one INSERT (decision 0208). Two things made each
-- stored event dearer than it needs to be:
-- One NOTIFY per row: the processor only needs waking, not the ids (it claims whatever is due), so
-- one NOTIFY per statement does. Fired even when every row was a duplicate: a wake-up that finds
-- nothing due costs one claim query.
CREATE OR REPLACE FUNCTION notify_stripe_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stripe_events', '');
  RETURN NULL;
END $$;--> statement-breakpoint
DROP TRIGGER "stripe_events_notify" ON "stripe_events";--> statement-breakpoint
CREATE TRIGGER "stripe_events_notify" AFTER INSERT ON "stripe_events"
  FOR EACH STATEMENT EXECUTE FUNCTION notify_stripe_event();--> statement-breakpoint
-- Compressing each payload (a few kilobytes of JSON, over the TOAST threshold) on the way in:
-- payloads stay out of line but uncompressed, a few kilobytes of disk per event for less CPU on
-- the path Stripe waits on.
ALTER TABLE "stripe_events" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
