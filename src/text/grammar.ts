/**
 * The built-in text corpus: restaurant descriptions from a small grammar (eight sentence
 * templates over five slots: name, food, price, area, rating), a seeded generator, and an exact
 * parser that decides whether a token sequence is a sentence of the grammar and which slot values
 * it states. Articles agree with the next word ("an Italian", "a cheap").
 */

import { mulberry32 } from "../data/mulberry32.js";
import { ConfigError } from "../errors.js";
import { detokenize, tokenize } from "./tokenizer.js";

/** The grammar's slots. */
export type Slot = "name" | "food" | "price" | "area" | "rating";

/** Every slot's values, in class order (a classifier's class k is values[k]; class values.length is "absent"). */
export const SLOT_VALUES: Readonly<Record<Slot, readonly string[]>> = {
  name: [
    "Aromi",
    "Zizzi",
    "Cotto",
    "Strada",
    "Fitzbillies",
    "Alimentum",
    "Blue Spice",
    "The Eagle",
    "The Mill",
    "The Phoenix",
    "The Punter",
    "The Golden Curry",
  ],
  food: ["Italian", "French", "Chinese", "Indian", "Japanese", "English", "Thai", "Mexican"],
  price: ["cheap", "moderate", "expensive"],
  area: ["city centre", "riverside", "old town"],
  rating: ["1", "3", "5"],
};

/** The surface forms of the slots: `adjective` and `noun` forms of price, the value's words otherwise. */
const PRICE_FORMS = {
  adjective: { cheap: ["cheap"], moderate: ["moderately", "priced"], expensive: ["expensive"] },
  noun: { cheap: ["low"], moderate: ["average"], expensive: ["high"] },
} as const;

/** One element of a template: a literal token, a slot (price with its form), or an article agreeing with the next token. */
type Item = string | { slot: Slot; form?: "adjective" | "noun" } | { article: true };

const S = (slot: Slot, form?: "adjective" | "noun"): Item => (form ? { slot, form } : { slot });
const ART: Item = { article: true };

/** The eight templates, as token sequences. */
const TEMPLATES: readonly Item[][] = [
  [S("name"), "is", ART, S("price", "adjective"), S("food"), "restaurant", "in", "the", S("area"), "."],
  [S("name"), "serves", S("food"), "food", "with", S("price", "noun"), "prices", "in", "the", S("area"), "."],
  [
    "In",
    "the",
    S("area"),
    ",",
    S("name"),
    "offers",
    S("price", "adjective"),
    S("food"),
    "food",
    "rated",
    S("rating"),
    "out",
    "of",
    "5",
    ".",
  ],
  [S("name"), "is", ART, S("food"), "restaurant", "rated", S("rating"), "out", "of", "5", "."],
  ["There", "is", ART, S("price", "adjective"), S("food"), "place", "called", S("name"), "in", "the", S("area"), "."],
  [S("name"), ",", "in", "the", S("area"), ",", "serves", S("food"), "food", "and", "is", "rated", S("rating"), "out", "of", "5", "."],
  ["Rated", S("rating"), "out", "of", "5", ",", S("name"), "is", ART, S("price", "adjective"), S("food"), "restaurant", "."],
  [S("name"), "has", S("price", "noun"), "prices", "and", "serves", S("food"), "food", "."],
];

/** Number of sentence templates of the grammar. */
export const TEMPLATE_COUNT = TEMPLATES.length;

/** What a sentence of the grammar states: its template and the slot values it names. */
export interface ParsedSentence {
  template: number;
  slots: Partial<Record<Slot, string>>;
}

/** The words of one slot value in one form. */
function surface(slot: Slot, value: string, form?: "adjective" | "noun"): readonly string[] {
  if (slot === "price") return PRICE_FORMS[form ?? "adjective"][value as keyof (typeof PRICE_FORMS)["adjective"]];
  return value.split(" ");
}

/** "an" before a word that starts with a vowel letter, "a" otherwise. */
export function article(next: string): "a" | "an" {
  return /^[aeiou]/i.test(next) ? "an" : "a";
}

/** The tokens of template `template` with the slot values `slots` (every slot it uses must be given). */
export function realizeTemplate(template: number, slots: Partial<Record<Slot, string>>): string[] {
  const items = TEMPLATES[template];
  if (!items) throw new ConfigError(`template ${template} does not exist (0..${TEMPLATE_COUNT - 1})`);
  const out: string[] = [];
  let pendingArticle = -1;
  for (const item of items) {
    if (typeof item === "object" && "article" in item) {
      pendingArticle = out.length;
      out.push("a");
      continue;
    }
    const words = typeof item === "string" ? [item] : surface(item.slot, slots[item.slot] ?? fail(item.slot), item.form);
    if (pendingArticle >= 0) {
      out[pendingArticle] = article(words[0]!);
      pendingArticle = -1;
    }
    out.push(...words);
  }
  return out;
  function fail(slot: Slot): never {
    throw new ConfigError(`template ${template} needs a value for the slot "${slot}"`);
  }
}

/** The slots template `template` states. */
export function templateSlots(template: number): Slot[] {
  return TEMPLATES[template]!.flatMap((i) => (typeof i === "object" && "slot" in i ? [i.slot] : []));
}

/**
 * `n` restaurant descriptions drawn from `seed`: a uniform template (of `templates`, default all)
 * and uniform values for its slots, each sentence written as text ("Aromi is an expensive Italian
 * restaurant in the riverside.").
 */
export function restaurantSentences(n: number, seed: number, templates: readonly number[] = TEMPLATES.map((_, k) => k)): string[] {
  if (templates.length === 0 || templates.some((k) => !TEMPLATES[k]))
    throw new ConfigError(`templates must be a non-empty list of 0..${TEMPLATE_COUNT - 1}, got [${templates.join(", ")}]`);
  const random = mulberry32(seed * 2654435761 + 12345);
  const pick = <T>(xs: readonly T[]) => xs[Math.min(xs.length - 1, Math.floor(random() * xs.length))]!;
  return Array.from({ length: n }, () => {
    const template = templates[Math.min(templates.length - 1, Math.floor(random() * templates.length))]!;
    const slots: Partial<Record<Slot, string>> = {};
    for (const slot of Object.keys(SLOT_VALUES) as Slot[]) slots[slot] = pick(SLOT_VALUES[slot]);
    return detokenize(realizeTemplate(template, slots));
  });
}

/**
 * The exact parse of a token sequence: the template and slot values if `tokens` is a sentence of
 * the grammar (every token used, every article agreeing with the word after it), otherwise null.
 * Backtracking over templates and slot values, so it decides membership exactly.
 */
export function parseTokens(tokens: readonly string[]): ParsedSentence | null {
  for (let template = 0; template < TEMPLATE_COUNT; template++) {
    const slots: Partial<Record<Slot, string>> = {};
    if (matchFrom(TEMPLATES[template]!, 0, tokens, 0, slots)) return { template, slots };
  }
  return null;
}

/** `parseTokens` of a sentence given as text (`tokenize` first). */
export function parseSentence(sentence: string): ParsedSentence | null {
  return parseTokens(tokenize(sentence));
}

function matchFrom(
  items: readonly Item[],
  i: number,
  tokens: readonly string[],
  pos: number,
  slots: Partial<Record<Slot, string>>,
): boolean {
  if (i === items.length) return pos === tokens.length;
  const item = items[i]!;
  if (typeof item === "string") return tokens[pos] === item && matchFrom(items, i + 1, tokens, pos + 1, slots);
  if ("article" in item) {
    const word = tokens[pos];
    const next = tokens[pos + 1];
    return (
      (word === "a" || word === "an") && next !== undefined && article(next) === word && matchFrom(items, i + 1, tokens, pos + 1, slots)
    );
  }
  for (const value of SLOT_VALUES[item.slot]) {
    const words = surface(item.slot, value, item.form);
    if (words.every((w, k) => tokens[pos + k] === w)) {
      slots[item.slot] = value;
      if (matchFrom(items, i + 1, tokens, pos + words.length, slots)) return true;
      delete slots[item.slot];
    }
  }
  return false;
}

/** Attributes a classifier can learn and sampling can steer: a slot's value, or the length in tokens. */
export type Attribute = Slot | "length";

/** The attributes known for the built-in corpus. */
export const attributes: readonly Attribute[] = ["food", "price", "area", "rating", "name", "length"];

/** The class names of an attribute: a slot's values then "absent"; for "length", "0".."maxLength". */
export function attributeClasses(attribute: Attribute, maxLength: number): string[] {
  if (attribute === "length") return Array.from({ length: maxLength + 1 }, (_, k) => String(k));
  return [...SLOT_VALUES[attribute], "absent"];
}

/**
 * The class of a sentence (as tokens) for an attribute: the index of its slot value (the "absent"
 * class when its template lacks the slot), its token count for "length"; -1 when a slot attribute
 * is asked of a sentence that does not parse.
 */
export function attributeClass(attribute: Attribute, tokens: readonly string[]): number {
  if (attribute === "length") return tokens.length;
  const parsed = parseTokens(tokens);
  if (!parsed) return -1;
  const value = parsed.slots[attribute];
  return value === undefined ? SLOT_VALUES[attribute].length : SLOT_VALUES[attribute].indexOf(value);
}

/**
 * The class index of `value` for `attribute` (a slot's value, case-insensitive, or a length), or an
 * Error listing the known values.
 */
export function attributeValue(attribute: Attribute, value: string, maxLength: number): number {
  const classes = attributeClasses(attribute, maxLength);
  const k =
    attribute === "length" ? classes.indexOf(value) : classes.slice(0, -1).findIndex((c) => c.toLowerCase() === value.toLowerCase());
  if (k < 0)
    throw new ConfigError(
      `"${value}" is not a value of ${attribute} (known: ${attribute === "length" ? `0..${maxLength}` : classes.slice(0, -1).join(", ")})`,
    );
  return k;
}
