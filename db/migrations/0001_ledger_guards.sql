-- The ledger's invariants, enforced by the database itself (shared/ledger.md §4).

-- Balances of an account (or a path prefix) as of any moment come from this index alone.
CREATE INDEX "ledger_postings_account_time" ON "ledger_postings" ("account_id", "effective_at") INCLUDE ("amount_minor");
--> statement-breakpoint

-- 1. Append-only. A correction is a new entry that names the entry it reverses.
CREATE FUNCTION "forbid_append_only_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed (post a reversing entry instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "ledger_accounts_append_only" BEFORE UPDATE OR DELETE ON "ledger_accounts"
  FOR EACH ROW EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "ledger_entries_append_only" BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "ledger_postings_append_only" BEFORE UPDATE OR DELETE ON "ledger_postings"
  FOR EACH ROW EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "matches_append_only" BEFORE UPDATE OR DELETE ON "matches"
  FOR EACH ROW EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "ledger_accounts_no_truncate" BEFORE TRUNCATE ON "ledger_accounts"
  FOR EACH STATEMENT EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "ledger_postings_no_truncate" BEFORE TRUNCATE ON "ledger_postings"
  FOR EACH STATEMENT EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint
CREATE TRIGGER "matches_no_truncate" BEFORE TRUNCATE ON "matches"
  FOR EACH STATEMENT EXECUTE FUNCTION "forbid_append_only_change"();
--> statement-breakpoint

-- 2. Balanced. Checked at commit, so an entry's postings may be inserted one by one. Amounts are
-- never zero, so a balanced entry has at least two postings; the entry-level trigger catches an
-- entry left with none, the posting-level one a posting added to an entry later.
CREATE FUNCTION "assert_ledger_entry_balanced"(entry bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  postings integer;
BEGIN
  SELECT coalesce(sum(amount_minor), 0), count(*) INTO total, postings
    FROM ledger_postings WHERE entry_id = entry;
  IF postings = 0 THEN
    RAISE EXCEPTION 'ledger entry % has no postings', entry USING ERRCODE = 'check_violation';
  END IF;
  IF total <> 0 THEN
    RAISE EXCEPTION 'ledger entry % does not balance: its postings sum to %', entry, total
      USING ERRCODE = 'check_violation';
  END IF;
END
$$;
--> statement-breakpoint
CREATE FUNCTION "check_ledger_entry_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM assert_ledger_entry_balanced(NEW.id);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION "check_ledger_posting_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM assert_ledger_entry_balanced(NEW.entry_id);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "ledger_entries_balanced" AFTER INSERT ON "ledger_entries"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "check_ledger_entry_balanced"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "ledger_postings_balanced" AFTER INSERT ON "ledger_postings"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "check_ledger_posting_balanced"();
--> statement-breakpoint

-- Accounts are created on first use. VOLATILE, so the second SELECT sees a row that a
-- concurrent transaction committed while our INSERT waited on it.
CREATE FUNCTION "ledger_account_id"(p_fiscal_partner text, p_currency text, p_path text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  found bigint;
BEGIN
  SELECT id INTO found FROM ledger_accounts
    WHERE fiscal_partner_id = p_fiscal_partner AND currency = p_currency AND path = p_path;
  IF found IS NULL THEN
    INSERT INTO ledger_accounts (fiscal_partner_id, currency, path)
      VALUES (p_fiscal_partner, p_currency, p_path)
      ON CONFLICT (fiscal_partner_id, currency, path) DO NOTHING
      RETURNING id INTO found;
    IF found IS NULL THEN
      SELECT id INTO found FROM ledger_accounts
        WHERE fiscal_partner_id = p_fiscal_partner AND currency = p_currency AND path = p_path;
    END IF;
  END IF;
  RETURN found;
END
$$;
