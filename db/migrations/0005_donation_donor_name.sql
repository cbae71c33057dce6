-- The name given with each gift, so an unpaid checkout under someone's email can no longer rename
-- them on the gifts they made before. Existing gifts take their donor's current name.
ALTER TABLE "donations" ADD COLUMN "donor_name" text;--> statement-breakpoint
UPDATE "donations" d SET "donor_name" = dn."name" FROM "donors" dn WHERE dn."id" = d."donor_id";--> statement-breakpoint
ALTER TABLE "donations" ALTER COLUMN "donor_name" SET NOT NULL;
