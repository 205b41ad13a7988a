/** The small fixed word lists the extractive summarizer decides by; changing them changes `extractive-v1`'s output. */

export const STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but by can
  could did do does doing down during each few for from further had has have having he her here hers herself him himself his
  how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves
  out over own same she should so some such than that the their theirs them themselves then there these they this those through
  to too under until up very was we were what when where which while who whom why will with would you your yours yourself
  yourselves um uh yeah yes okay ok oh hi hello well like really right sure thanks thank please get got going go let also im
  ill youre its dont cant thats theres ive weve were yep hmm mm gonna wanna one two just know think say said`
    .split(/\s+/)
    .filter(Boolean),
);

export const POSITIVE = new Set(
  `great good excellent perfect wonderful glad happy helpful appreciate appreciated love awesome pleased resolved fantastic
  amazing nice satisfied works working fixed easy`
    .split(/\s+/)
    .filter(Boolean),
);

export const NEGATIVE = new Set(
  `bad terrible angry upset frustrated frustrating unhappy disappointed problem problems issue issues broken wrong worst awful
  annoyed annoying complaint complain cancel horrible useless poor late failed fails failing overcharged unacceptable`
    .split(/\s+/)
    .filter(Boolean),
);

export const NEGATIONS = new Set(["not", "never", "no", "dont", "don't", "isnt", "isn't", "wasnt", "wasn't", "cant", "can't", "didnt", "didn't"]);

/** Phrases that make a sentence a commitment or a request: an action item. */
export const COMMITMENT =
  /\b(i will|i'll|we will|we'll|i am going to|i'm going to|we are going to|we're going to|let me|please|call (?:you |me |us )?back|send|schedule|follow up|remind|make sure|set up|book)\b/;

/** Intent labels by their keywords, in order of precedence when counts tie. */
export const INTENTS: readonly (readonly [label: string, keywords: RegExp])[] = [
  ["cancellation", /\b(cancel|cancell?ation|terminate|close (?:my|the) account)\b/g],
  ["billing question", /\b(bill|billing|invoice|charged?|charges|refund|payment|overcharged)\b/g],
  ["appointment scheduling", /\b(appointment|reschedule|schedule|booking)\b/g],
  ["technical support", /\b(not working|broken|error|outage|internet|reset|router|crash(?:es|ed)?|install)\b/g],
  ["order status", /\b(order|delivery|shipped|shipping|tracking|package)\b/g],
  ["sales inquiry", /\b(price|pricing|quote|buy|purchase|upgrade|new plan)\b/g],
  ["complaint", /\b(complaint|complain|unacceptable|disappointed)\b/g],
];

/** Words that follow "this is" but are not a name ("this is about my bill"). */
export const NOT_NAMES = new Set(
  `about regarding concerning urgent important great good fine correct right wrong the a an my our your his her their it that
  what how why when where just really so very not going calling actually still also frustrating ridiculous terrible perfect
  awesome helpful weird strange me us him them from with`
    .split(/\s+/)
    .filter(Boolean),
);

export const DIGIT_WORDS: Readonly<Record<string, string>> = {
  zero: "0", oh: "0", o: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7", eight: "8", nine: "9",
};

export const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
export const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

const ORDINAL_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"];
const ORDINAL_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"];

/** "first" … "thirty first" → 1 … 31, as a recognizer without digits writes days of the month. */
export const ORDINAL_WORDS: Readonly<Record<string, number>> = (() => {
  const map: Record<string, number> = {};
  ORDINAL_UNITS.forEach((word, i) => (map[word] = i + 1));
  ORDINAL_TEENS.forEach((word, i) => (map[word] = i + 10));
  map.twentieth = 20;
  map.thirtieth = 30;
  ORDINAL_UNITS.forEach((word, i) => {
    map[`twenty ${word}`] = 21 + i;
    map[`twenty-${word}`] = 21 + i;
  });
  map["thirty first"] = 31;
  map["thirty-first"] = 31;
  return map;
})();
