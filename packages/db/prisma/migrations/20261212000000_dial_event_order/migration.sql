-- A dial's timeline is read in the order its rows were written (each writer holds the dial's row
-- lock), not by `at`: the API's and the dialers' clocks may disagree by a few milliseconds.
ALTER TABLE "dial_events" ADD COLUMN "seq" BIGSERIAL NOT NULL;

DROP INDEX "dial_events_dial_id_at_idx";
CREATE INDEX "dial_events_dial_id_seq_idx" ON "dial_events"("dial_id", "seq");
