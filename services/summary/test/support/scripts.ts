/**
 * Call scripts used across the tests. TWO_PARTY is punctuated (as a cloud recognizer writes);
 * RECOGNIZER_STYLE is the same kind of call as pocketsphinx writes it: lower case, no marks, one
 * segment per pause.
 */

export const TWO_PARTY = [
  "Agent: Thank you for calling Northwind Internet, this is Dana, how can I help you today?",
  "Caller: Hi Dana. My name is Maria Gonzalez and my internet has been down since yesterday.",
  "Agent: I am sorry to hear that. Let me check the outage map for your area.",
  "Caller: It keeps dropping every evening and I work from home, so it is really frustrating.",
  "Agent: I see a router firmware error on your line. I will reset the router from our side now.",
  "Caller: Okay. If it fails again, please call me back at 555-201-7788.",
  "Agent: Of course. I will schedule a technician visit for next Tuesday if the reset does not fix it.",
  "Caller: Great, thank you, that is helpful.",
  "Agent: You're welcome. I will send you a confirmation email with the ticket number.",
].join(" ");

export const RECOGNIZER_SEGMENTS = [
  "hello thanks for calling acme billing",
  "hi my name is john smith i was charged twice on my last bill",
  "i see the duplicate charge on your invoice",
  "i will refund the second payment today",
  "can you call me back on five five five three one two four four nine nine",
  "sure we will call you on march third to confirm the refund",
  "thank you that is great",
].map((text, i) => ({ start: i * 4, end: i * 4 + 3.5, text }));

export const RECOGNIZER_TEXT = RECOGNIZER_SEGMENTS.map((segment) => segment.text).join(" ");

/** A call date fixed for the tests: Monday 2024-02-26, so "next Tuesday" is 2024-02-27 and "march third" 2024-03-03. */
export const CALL_DATE = new Date("2024-02-26T15:00:00Z");
