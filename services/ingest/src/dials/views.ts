import { z } from "zod";
import { DialPriority, DialStatus } from "@callflow/db";
import { errorView } from "../calls/views.ts";

/** The HTTP shapes of dials and the do-not-call list, declared once: validation and the OpenAPI document. */

export const dialStatus = z.enum(DialStatus);
export const dialPriority = z.enum(DialPriority);

export const dialEventView = z.object({
  status: dialStatus,
  attempt: z.number().int(),
  at: z.string(),
  errorCode: z.string().nullable(),
  detail: z.string().nullable(),
});

export const dialSummaryView = z.object({
  id: z.uuid(),
  status: dialStatus,
  to: z.string().describe("E.164"),
  from: z.string().nullable(),
  campaign: z.string().nullable(),
  priority: dialPriority,
  leadId: z.string().nullable(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  notBefore: z.string().nullable(),
  calleeTimezone: z.string().nullable(),
  nextAttemptAt: z.string().describe("When the dialer takes the dial up next; it also keeps to the tenant's call window"),
  providerCallId: z.string().nullable().describe("The carrier's id of the call, once it accepted it"),
  callId: z.uuid().nullable().describe("The call its recording became"),
  error: errorView,
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const dialView = dialSummaryView.extend({
  metadata: z.record(z.string(), z.unknown()),
  timeline: z.array(dialEventView).describe("Every status the dial went through, oldest first"),
});

export const dialAcceptedView = z.object({ id: z.uuid(), status: dialStatus });

export const doNotCallEntryView = z.object({ number: z.string().describe("E.164"), createdAt: z.string() });

export type DialSummaryView = z.infer<typeof dialSummaryView>;
export type DialView = z.infer<typeof dialView>;
