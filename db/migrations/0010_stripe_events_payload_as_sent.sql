-- Each event's payload is kept as the exact text Stripe signed: json stores the text, where jsonb
-- re-encodes it (key order, whitespace, duplicate keys) and refuses a \u0000 escape that JSON
-- allows, which made such an event fail on every redelivery. It is also a little cheaper to take
-- in, on the path Stripe waits on. Events stored before keep their jsonb form, rendered as text.
ALTER TABLE "stripe_events" ALTER COLUMN "payload" SET DATA TYPE json USING "payload"::json;--> statement-breakpoint
ALTER TABLE "stripe_events" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
