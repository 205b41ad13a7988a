import { randomBytes } from "node:crypto";

/**
 * Twilio's REST shapes for the resources the simulated server keeps: calls, their events, recordings,
 * list pages and error bodies, field for field as api.twilio.com writes them (2010-04-01 API).
 */

export type TwilioCallStatus = "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "canceled";

export interface SimulatedCall {
  readonly sid: string;
  readonly accountSid: string;
  readonly to: string;
  readonly from: string;
  status: TwilioCallStatus;
  readonly dateCreated: Date;
  dateUpdated: Date;
  startTime: Date | undefined;
  endTime: Date | undefined;
  durationSeconds: number | undefined;
  /** The create request's form parameters, repeated ones as arrays. */
  readonly params: Readonly<Record<string, string | readonly string[]>>;
  /** Every request Twilio made for this call (its Events resource). */
  readonly events: CallEvent[];
  /** Aborted by a hang-up (`POST /Calls/{sid}.json` with `Status`): the call ends at once. */
  readonly hangUp: AbortController;
}

export interface CallEvent {
  request: { method: "POST"; url: string; parameters: Record<string, string> };
  response: { response_code: number | null; response_body: string | null; request_duration: number | null; date_created: string; content_type: string | null };
}

export interface SimulatedRecording {
  readonly sid: string;
  readonly callSid: string;
  readonly wav: Buffer;
  readonly durationSeconds: number;
  readonly dateCreated: Date;
}

export const API_VERSION = "2010-04-01";

export const newSid = (prefix: "CA" | "RE" | "PN"): string => prefix + randomBytes(16).toString("hex");

/** Twilio's RFC 2822 timestamps, `Tue, 31 Aug 2010 20:36:28 +0000`. */
export const rfc2822 = (date: Date | undefined): string | null => (date ? date.toUTCString().replace("GMT", "+0000") : null);

const formatted = (number: string): string => {
  const us = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return us ? `(${us[1]}) ${us[2]}-${us[3]}` : number;
};

const accountPath = (accountSid: string) => `/${API_VERSION}/Accounts/${accountSid}`;

export const callJson = (call: SimulatedCall) => {
  const uri = `${accountPath(call.accountSid)}/Calls/${call.sid}`;
  return {
    account_sid: call.accountSid,
    annotation: null,
    answered_by: null,
    api_version: API_VERSION,
    caller_name: null,
    date_created: rfc2822(call.dateCreated),
    date_updated: rfc2822(call.dateUpdated),
    direction: "outbound-api",
    duration: call.durationSeconds === undefined ? null : String(call.durationSeconds),
    end_time: rfc2822(call.endTime),
    forwarded_from: null,
    from: call.from,
    from_formatted: formatted(call.from),
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: null,
    price_unit: "USD",
    queue_time: "0",
    sid: call.sid,
    start_time: rfc2822(call.startTime),
    status: call.status,
    subresource_uris: {
      events: `${uri}/Events.json`,
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
    },
    to: call.to,
    to_formatted: formatted(call.to),
    trunk_sid: null,
    uri: `${uri}.json`,
  };
};

export const recordingPath = (accountSid: string, recordingSid: string): string => `${accountPath(accountSid)}/Recordings/${recordingSid}`;

export const recordingJson = (recording: SimulatedRecording, accountSid: string, baseUrl: string) => {
  const path = recordingPath(accountSid, recording.sid);
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    call_sid: recording.callSid,
    channels: 1,
    conference_sid: null,
    date_created: rfc2822(recording.dateCreated),
    date_updated: rfc2822(recording.dateCreated),
    duration: String(Math.ceil(recording.durationSeconds)),
    encryption_details: null,
    error_code: null,
    media_url: `${baseUrl}${path}`,
    price: null,
    price_unit: "USD",
    sid: recording.sid,
    source: "OutboundAPI",
    start_time: rfc2822(recording.dateCreated),
    status: "completed",
    subresource_uris: { transcriptions: `${path}/Transcriptions.json`, add_on_results: `${path}/AddOnResults.json` },
    uri: `${path}.json`,
  };
};

/** One page of a list, with the paging fields Twilio's 2010 API puts beside the records. */
export const listPage = <T>(key: string, all: readonly T[], request: URL) => {
  const pageSize = Math.min(Math.max(Number(request.searchParams.get("PageSize")) || 50, 1), 1000);
  const page = Math.max(Number(request.searchParams.get("Page")) || 0, 0);
  const records = all.slice(page * pageSize, (page + 1) * pageSize);
  const uriFor = (n: number) => {
    const next = new URL(request.href);
    next.searchParams.set("PageSize", String(pageSize));
    next.searchParams.set("Page", String(n));
    return `${next.pathname}${next.search}`;
  };
  return {
    [key]: records,
    start: page * pageSize,
    end: page * pageSize + Math.max(records.length - 1, 0),
    page,
    page_size: pageSize,
    uri: uriFor(page),
    first_page_uri: uriFor(0),
    previous_page_uri: page > 0 ? uriFor(page - 1) : null,
    next_page_uri: (page + 1) * pageSize < all.length ? uriFor(page + 1) : null,
  };
};

/** Twilio's error body; `more_info` links the code's page. */
export const errorJson = (status: number, code: number, message: string) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});
