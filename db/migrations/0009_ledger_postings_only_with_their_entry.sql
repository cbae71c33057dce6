-- A committed entry's postings are fixed (shared/ledger.md §4): the append-only triggers stop an
-- UPDATE or DELETE, and the balance check stops a lone posting, but a balanced pair of postings
-- added to an old entry (+7 to one fund, -7 to another) would have moved money inside history
-- without a new entry. Each entry now records the top-level transaction that posted it
-- (pg_current_xact_id() is the top-level id even inside a savepoint), and only that transaction
-- may write its postings. Entries already in the ledger get this migration's id, so none of them
-- can take a posting again.
ALTER TABLE "ledger_entries" ADD COLUMN "posted_in_xact" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL;--> statement-breakpoint
-- Checked where each posting's balance is already checked, at commit (migration 0001), so the
-- posting path gains one index lookup rather than another trigger.
CREATE OR REPLACE FUNCTION "check_ledger_posting_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM ledger_entries
    WHERE id = NEW.entry_id AND posted_in_xact = pg_current_xact_id()::text::bigint
  ) THEN
    RAISE EXCEPTION 'ledger entry % was not posted by this transaction: a committed entry''s postings are fixed (post a new entry instead)', NEW.entry_id
      USING ERRCODE = 'restrict_violation';
  END IF;
  PERFORM assert_ledger_entry_balanced(NEW.entry_id);
  RETURN NULL;
END
$$;
