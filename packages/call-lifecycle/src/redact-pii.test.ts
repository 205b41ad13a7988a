import { describe, expect, it } from "vitest";
import { findPii, redactPii } from "./redact-pii.ts";

describe("redactPii", () => {
  it("redacts email addresses, written and spoken", () => {
    expect(redactPii("write to jane.doe+calls@example.co.uk today")).toBe("write to [EMAIL_ADDRESS] today");
    expect(redactPii("it is jane dot doe at example dot com thanks")).toBe("it is [EMAIL_ADDRESS] thanks");
  });

  it("redacts a card number that passes the Luhn check, written or spoken", () => {
    expect(redactPii("card 4111 1111 1111 1111 expires")).toBe("card [CREDIT_CARD_NUMBER] expires");
    expect(redactPii("my card is four one one one one one one one one one one one one one one one ok")).toBe("my card is [CREDIT_CARD_NUMBER] ok");
  });

  it("redacts phone numbers written with separators or spoken as digits, and leaves short numbers alone", () => {
    expect(redactPii("call +1 (555) 010-2345 now")).toBe("call [PHONE_NUMBER] now");
    expect(redactPii("my number is five five five oh one two three four five thanks")).toBe("my number is [PHONE_NUMBER] thanks");
    expect(redactPii("it's 555 one two three 4567")).toBe("it's [PHONE_NUMBER]");
    expect(redactPii("we need two or three people")).toBe("we need two or three people");
    expect(redactPii("order 12345 shipped")).toBe("order 12345 shipped");
  });

  it("redacts account numbers after an account cue, long digit runs and IBANs", () => {
    expect(redactPii("my account number is 88442211 thanks")).toBe("my account number is [ACCOUNT_NUMBER] thanks");
    expect(redactPii("policy no. 884422 was cancelled")).toBe("policy no. [ACCOUNT_NUMBER] was cancelled");
    expect(redactPii("account one two three four please")).toBe("account [ACCOUNT_NUMBER] please");
    expect(redactPii("reference 1234567890123456")).toBe("reference [ACCOUNT_NUMBER]");
    expect(redactPii("the IBAN is GB82 WEST 1234 5698 7654 32 ok")).toBe("the IBAN is [ACCOUNT_NUMBER] ok");
  });

  it("redacts names in recogniser text without capitals, in written text, and after a name cue", () => {
    expect(redactPii("hello my name is john smith and i am calling about my bill")).toBe("hello my name is [PERSON_NAME] and i am calling about my bill");
    expect(redactPii("thank you for calling acme this is sarah how can i help")).toBe("thank you for calling acme this is [PERSON_NAME] how can i help");
    expect(redactPii("The customer, Maria Gonzalez, asked Dr. Patel to call back.")).toBe("The customer, [PERSON_NAME], asked [PERSON_NAME] to call back.");
    // A name no lexicon knows, after "my name is" or an honorific.
    expect(redactPii("my name is zorblat quux and i need help")).toBe("my name is [PERSON_NAME] and i need help");
    expect(redactPii("please call back mister okonkwo tomorrow")).toBe("please call back [PERSON_NAME] tomorrow");
  });

  it("leaves text without PII, ISO dates and amounts as they are", () => {
    const plain = "The quick brown fox jumps over the lazy dog. Please call me tomorrow morning about the new contract.";
    expect(redactPii(plain)).toBe(plain);
    expect(redactPii("Customer reported a billing issue; agent promised a refund by Friday.")).toBe("Customer reported a billing issue; agent promised a refund by Friday.");
    expect(redactPii("follow up on 2026-12-14 about the $1250000 refund")).toBe("follow up on 2026-12-14 about the $1250000 refund");
    expect(findPii("")).toEqual([]);
  });

  it("changes nothing when run on its own output", () => {
    const once = redactPii("my name is john smith, email john dot smith at example dot com, card 4111111111111111, phone 555 010 2345, account 99887766");
    expect(once).toBe("my name is [PERSON_NAME], email [EMAIL_ADDRESS], card [CREDIT_CARD_NUMBER], phone [PHONE_NUMBER], account [ACCOUNT_NUMBER]");
    expect(redactPii(once)).toBe(once);
  });
});
