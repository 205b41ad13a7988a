-- PII redaction (docs/design.md, "PII redaction"): a tenant's setting, and on each call the value
-- resolved at upload (the upload's override, else the tenant's setting), fixed for the call's life.
ALTER TABLE "tenants" ADD COLUMN "redact_pii" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "calls" ADD COLUMN "redact_pii" BOOLEAN NOT NULL DEFAULT false;
