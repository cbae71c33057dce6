-- A Stripe event is a few kilobytes of JSON, just over the 2 KB at which PostgreSQL moves a value
-- out of its row: each stored event was then written as a row plus two or three TOAST chunks, each
-- with its own index entry, on the path Stripe waits on (decision 0208). Rows up to a page now keep
-- their payload inline; a larger event still goes out of line, uncompressed (migration 0006).
ALTER TABLE "stripe_events" SET (toast_tuple_target = 8160);
