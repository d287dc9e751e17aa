/**
 * Kubernetes resource quantities ("100m", "1.5Gi", "1e3"), parsed exactly.
 *
 * The grammar and the rounding follow k8s.io/apimachinery/pkg/api/resource
 * (quantity.go, suffix.go):
 *
 *     <quantity>        ::= <signedNumber><suffix>
 *     <signedNumber>    ::= <number> | "+" <number> | "-" <number>
 *     <number>          ::= <digits> | <digits> "." <digits> | <digits> "." | "." <digits>
 *     <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
 *     <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
 *     <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
 *     <decimalExponent> ::= "e" <signedInteger> | "E" <signedInteger>   (|exponent| <= 2^31-1)
 *
 * A parsed value keeps nano precision: a finer non-zero value is rounded away
 * from zero to the next nano ("0.9n" is 1n), as upstream does.
 *
 * Deliberate differences from upstream, all at the edge of the grammar:
 * - Upstream's scanner accepts strings without a single digit ("Ki", "e3",
 *   ".", "+", "-") as zero, although its documented grammar does not. They are
 *   rejected here. The API server never serves them (it re-serializes every
 *   quantity in canonical form, so such an input would arrive as "0").
 * - Upstream silently caps a binary-suffixed quantity at 2^63-1 ("8Ei" parses
 *   as 2^63-1). Here every value stays exact; the number helpers reject
 *   anything above 2^53-1 anyway.
 * - Inputs longer than {@link MAX_QUANTITY_LENGTH} characters are rejected, to
 *   bound the cost of parsing what an untrusted object carries.
 */

/** Why a quantity was refused. */
export type QuantityErrorCode =
  /** The input is empty. */
  | 'empty'
  /** The input does not follow the grammar (spaces, two dots, no digits, trailing junk...). */
  | 'syntax'
  /** The suffix is none of the known ones ("Kib", "KI", "1e", "1e4294967297"...). */
  | 'suffix'
  /** The input is longer than MAX_QUANTITY_LENGTH. */
  | 'too-long'
  /** The value is negative where only non-negative values are allowed. */
  | 'negative'
  /** The result in the requested unit is beyond what the caller can hold exactly. */
  | 'out-of-range';

/** QuantityError is thrown for a quantity that cannot be parsed or converted. */
export class QuantityError extends Error {
  override readonly name = 'QuantityError';
  /** The quantity as given. */
  readonly input: string;
  /** A machine-readable code. */
  readonly code: QuantityErrorCode;
  /** A short human-readable reason, without the input. */
  readonly reason: string;

  constructor(input: string, code: QuantityErrorCode, reason: string, options?: { cause?: unknown }) {
    const shown = input.length > 64 ? `${input.slice(0, 61)}...` : input;
    super(`invalid quantity ${JSON.stringify(shown)}: ${reason}`, options);
    this.input = input;
    this.code = code;
    this.reason = reason;
  }
}

/**
 * Quantity is an exact quantity: mantissa × 10^exponent.
 *
 * It is canonical (the mantissa has no trailing decimal zero, and zero is
 * {0n, 0}), so two equal quantities have equal fields, and the exponent is
 * never below -9 (nano precision, as upstream).
 */
export interface Quantity {
  /** The signed digits of the value. */
  readonly mantissa: bigint;
  /** The power of ten the mantissa is scaled by; at least -9. */
  readonly exponent: number;
}

/**
 * Amount is an exact non-negative amount in a fixed unit (milli-CPU, bytes,
 * counts): units + frac / 1e9. It is what sums of requests are kept in, so that
 * sub-unit fractions add up before rounding, as upstream adds Quantities and
 * rounds only at the end.
 */
export interface Amount {
  /** The whole units; a safe integer. */
  readonly units: number;
  /** The fraction of a unit in billionths, 0 <= frac < 1e9. */
  readonly frac: number;
}

/** The longest quantity string accepted. */
export const MAX_QUANTITY_LENGTH = 1024;

/** The largest exponent toMilli/toUnits expand into a bigint. */
const MAX_EXPANDED_EXPONENT = 4096;
/** The largest exponent of a decimalExponent suffix, as upstream (int32 scale, negatable). */
const MAX_SUFFIX_EXPONENT = 2147483647;

const ZERO_QUANTITY: Quantity = Object.freeze({ mantissa: 0n, exponent: 0 });
/** The zero amount. */
export const ZERO_AMOUNT: Amount = Object.freeze({ units: 0, frac: 0 });

const FRAC_ONE = 1_000_000_000;
const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

const CH_0 = 48;
const CH_9 = 57;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_DOT = 46;

/** Characters upstream's scanner accepts as suffix letters: "eEinumkKMGTP". */
function isSuffixLetter(c: number): boolean {
  switch (c) {
    case 101: // e
    case 69: // E
    case 105: // i
    case 110: // n
    case 117: // u
    case 109: // m
    case 107: // k
    case 75: // K
    case 77: // M
    case 71: // G
    case 84: // T
    case 80: // P
      return true;
    default:
      return false;
  }
}

// The result of the last scan. Scanning is synchronous and never re-entered,
// and reusing one record keeps the hot path (every quantity of every pod at
// the edge) free of allocations.
const scanned = {
  negative: false,
  intStart: 0,
  intEnd: 0,
  fracStart: 0,
  fracEnd: 0,
  /** Power of ten of the suffix (decimal suffixes and exponents). */
  exp10: 0,
  /** Power of two of the suffix (binary suffixes). */
  exp2: 0,
};

function syntaxError(input: string, reason: string): QuantityError {
  return new QuantityError(input, 'syntax', reason);
}

function suffixError(input: string): QuantityError {
  return new QuantityError(input, 'suffix', "unable to parse quantity's suffix");
}

/** Scans s into `scanned`, or throws a QuantityError. */
function scan(s: string): void {
  const n = s.length;
  if (n === 0) throw new QuantityError(s, 'empty', 'must not be empty');
  if (n > MAX_QUANTITY_LENGTH) throw new QuantityError(s, 'too-long', `longer than ${MAX_QUANTITY_LENGTH} characters`);
  let i = 0;
  let c = s.charCodeAt(0);
  scanned.negative = false;
  if (c === CH_MINUS) {
    scanned.negative = true;
    i = 1;
  } else if (c === CH_PLUS) {
    i = 1;
  }
  scanned.intStart = i;
  while (i < n && (c = s.charCodeAt(i)) >= CH_0 && c <= CH_9) i++;
  scanned.intEnd = i;
  scanned.fracStart = i;
  scanned.fracEnd = i;
  if (i < n && s.charCodeAt(i) === CH_DOT) {
    i++;
    scanned.fracStart = i;
    while (i < n && (c = s.charCodeAt(i)) >= CH_0 && c <= CH_9) i++;
    scanned.fracEnd = i;
  }
  if (scanned.intEnd === scanned.intStart && scanned.fracEnd === scanned.fracStart) {
    throw syntaxError(s, `expected a digit at ${i}`);
  }
  // The suffix, as upstream scans it: suffix letters, an optional sign, digits, end.
  const suffixStart = i;
  while (i < n && isSuffixLetter(s.charCodeAt(i))) i++;
  if (i < n && ((c = s.charCodeAt(i)) === CH_PLUS || c === CH_MINUS)) i++;
  while (i < n && (c = s.charCodeAt(i)) >= CH_0 && c <= CH_9) i++;
  if (i < n) throw syntaxError(s, `unexpected character ${JSON.stringify(s.charAt(i))} at ${i}`);
  interpretSuffix(s, suffixStart);
}

function interpretSuffix(s: string, start: number): void {
  scanned.exp10 = 0;
  scanned.exp2 = 0;
  const len = s.length - start;
  if (len === 0) return;
  const c0 = s.charCodeAt(start);
  if (len === 1) {
    switch (c0) {
      case 110: // n
        scanned.exp10 = -9;
        return;
      case 117: // u
        scanned.exp10 = -6;
        return;
      case 109: // m
        scanned.exp10 = -3;
        return;
      case 107: // k
        scanned.exp10 = 3;
        return;
      case 77: // M
        scanned.exp10 = 6;
        return;
      case 71: // G
        scanned.exp10 = 9;
        return;
      case 84: // T
        scanned.exp10 = 12;
        return;
      case 80: // P
        scanned.exp10 = 15;
        return;
      case 69: // E
        scanned.exp10 = 18;
        return;
      default:
        throw suffixError(s);
    }
  }
  if (len === 2 && s.charCodeAt(start + 1) === 105 /* i */) {
    switch (c0) {
      case 75: // K
        scanned.exp2 = 10;
        return;
      case 77: // M
        scanned.exp2 = 20;
        return;
      case 71: // G
        scanned.exp2 = 30;
        return;
      case 84: // T
        scanned.exp2 = 40;
        return;
      case 80: // P
        scanned.exp2 = 50;
        return;
      case 69: // E
        scanned.exp2 = 60;
        return;
      default:
        throw suffixError(s);
    }
  }
  if (c0 !== 101 /* e */ && c0 !== 69 /* E */) throw suffixError(s);
  // A decimal exponent: what strconv.ParseInt accepts (sign, then at least one digit),
  // bounded like upstream's int32 scale.
  let i = start + 1;
  const n = s.length;
  let negative = false;
  let c = s.charCodeAt(i);
  if (c === CH_PLUS || c === CH_MINUS) {
    negative = c === CH_MINUS;
    i++;
  }
  if (i === n) throw suffixError(s);
  let value = 0;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c < CH_0 || c > CH_9) throw suffixError(s);
    value = value * 10 + (c - CH_0);
    if (value > MAX_SUFFIX_EXPONENT) throw new QuantityError(s, 'suffix', 'exponent out of range');
  }
  scanned.exp10 = negative ? -value : value;
}

/** Counts the decimal digits of a positive bigint, from above (cheap, never below the truth). */
function digitsUpperBound(m: bigint): number {
  // log10(2) < 0.30103; one more for the rounding.
  return Math.floor(m.toString(16).length * 4 * 0.30103) + 2;
}

/** ceil(|m| / d) with the sign of m: upstream rounds a finer value away from zero. */
function divideAwayFromZero(m: bigint, d: bigint): bigint {
  if (m >= 0n) return (m + d - 1n) / d;
  return -((-m + d - 1n) / d);
}

/** Builds the canonical exact quantity from the last scan. */
function quantityFromScan(s: string): Quantity {
  const { intStart, intEnd, fracStart, fracEnd } = scanned;
  // Strip leading zeros of the integer part and trailing zeros of the whole digit string.
  let a = intStart;
  while (a < intEnd && s.charCodeAt(a) === CH_0) a++;
  let digits = s.slice(a, intEnd) + s.slice(fracStart, fracEnd);
  let exponent = scanned.exp10 - (fracEnd - fracStart);
  let z = digits.length;
  while (z > 0 && digits.charCodeAt(z - 1) === CH_0) z--;
  if (z === 0) return ZERO_QUANTITY;
  exponent += digits.length - z;
  digits = digits.slice(0, z);
  let mantissa = BigInt(digits);
  if (scanned.exp2 !== 0) {
    mantissa <<= BigInt(scanned.exp2);
    // 5 × 2 = 10: the shift may bring back trailing zeros.
    while (mantissa % 10n === 0n) {
      mantissa /= 10n;
      exponent++;
    }
  }
  if (exponent < -9) {
    const drop = -9 - exponent;
    if (drop > digitsUpperBound(mantissa)) {
      mantissa = 1n;
    } else {
      mantissa = (mantissa + 10n ** BigInt(drop) - 1n) / 10n ** BigInt(drop);
    }
    exponent = -9;
    while (mantissa % 10n === 0n) {
      mantissa /= 10n;
      exponent++;
    }
  }
  return { mantissa: scanned.negative ? -mantissa : mantissa, exponent };
}

/**
 * Parses a quantity exactly.
 *
 * @throws QuantityError when s is not a quantity.
 */
export function parseQuantity(s: string): Quantity {
  scan(s);
  return quantityFromScan(s);
}

/** Tells whether s is a quantity (any sign). */
export function isQuantity(s: string): boolean {
  try {
    scan(s);
    return true;
  } catch {
    return false;
  }
}

function quantityText(q: Quantity): string {
  return q.exponent === 0 ? q.mantissa.toString() : `${q.mantissa}e${q.exponent}`;
}

function scaled(q: Quantity, shift: number): bigint {
  if (q.mantissa === 0n) return 0n;
  const e = q.exponent + shift;
  if (e >= 0) {
    if (e > MAX_EXPANDED_EXPONENT) {
      throw new QuantityError(quantityText(q), 'out-of-range', `more than 10^${MAX_EXPANDED_EXPONENT}`);
    }
    return q.mantissa * 10n ** BigInt(e);
  }
  return divideAwayFromZero(q.mantissa, 10n ** BigInt(-e));
}

/**
 * The quantity in thousandths, rounded up (away from zero), like upstream's
 * MilliValue without its int64 overflow.
 *
 * @throws QuantityError (out-of-range) beyond 10^4096.
 */
export function toMilli(q: Quantity): bigint {
  return scaled(q, 3);
}

/**
 * The quantity rounded up (away from zero) to an integer, like upstream's
 * Value without its int64 overflow.
 *
 * @throws QuantityError (out-of-range) beyond 10^4096.
 */
export function toUnits(q: Quantity): bigint {
  return scaled(q, 0);
}

/** Options of {@link milliValue} and {@link value}. */
export interface QuantityValueOptions {
  /** Accept negative quantities (default false: requests and capacities are never negative). */
  readonly allowNegative?: boolean;
}

function fromBigint(input: string, v: bigint, unit: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new QuantityError(input, 'out-of-range', `${unit} exceed 2^53-1`);
  }
  return Number(v);
}

function negativeError(input: string): QuantityError {
  return new QuantityError(input, 'negative', 'must not be negative');
}

/**
 * The quantity in milli-units (millicores for CPU) as a safe integer, rounded up.
 *
 * @throws QuantityError when s is invalid, negative (unless allowed) or above 2^53-1 milli-units.
 */
export function milliValue(s: string, options?: QuantityValueOptions): number {
  if (options?.allowNegative === true && s.charCodeAt(0) === CH_MINUS) {
    return fromBigint(s, toMilli(parseQuantity(s)), 'milli-units');
  }
  return ceilAmount(parseAmount(s, true), s);
}

/**
 * The quantity as a safe integer (bytes for memory, a count for extended
 * resources), rounded up.
 *
 * @throws QuantityError when s is invalid, negative (unless allowed) or above 2^53-1.
 */
export function value(s: string, options?: QuantityValueOptions): number {
  if (options?.allowNegative === true && s.charCodeAt(0) === CH_MINUS) {
    return fromBigint(s, toUnits(parseQuantity(s)), 'units');
  }
  return ceilAmount(parseAmount(s, false), s);
}

/**
 * An amount rounded up to whole units.
 *
 * @throws QuantityError (out-of-range) when that is above 2^53-1; input names the amount in errors.
 */
export function ceilAmount(a: Amount, input: string): number {
  const v = a.frac > 0 ? a.units + 1 : a.units;
  if (v > Number.MAX_SAFE_INTEGER) throw new QuantityError(input, 'out-of-range', 'exceeds 2^53-1');
  return v;
}

function unsafeAmount(input: string, milli: boolean): QuantityError {
  return new QuantityError(input, 'out-of-range', milli ? 'exceeds 2^53-1 milli-units' : 'exceeds 2^53-1');
}

/**
 * Parses a non-negative quantity into an exact amount of milli-units
 * (milli = true, for CPU) or units (bytes, counts).
 *
 * Most quantities ("100m", "2", "1.5Gi", "512Mi") are computed with plain
 * numbers; the rest takes the exact bigint route.
 *
 * @throws QuantityError when s is invalid, negative, or holds more than 2^53-1 whole units.
 */
export function parseAmount(s: string, milli: boolean): Amount {
  scan(s);
  const { intStart, intEnd, fracStart, fracEnd } = scanned;
  let d = 0;
  let significant = 0;
  for (let i = intStart; i < intEnd; i++) {
    const c = s.charCodeAt(i) - CH_0;
    if (significant > 0 || c !== 0) {
      significant++;
      d = d * 10 + c;
    }
  }
  for (let i = fracStart; i < fracEnd; i++) {
    const c = s.charCodeAt(i) - CH_0;
    if (significant > 0 || c !== 0) {
      significant++;
      d = d * 10 + c;
    }
  }
  if (significant === 0) return ZERO_AMOUNT;
  if (scanned.negative) throw negativeError(s);
  if (significant > 15) return amountFromQuantity(quantityFromScan(s), s, milli);
  const m = scanned.exp2 === 0 ? d : d * 2 ** scanned.exp2;
  // Above 2^53 the product may be inexact: let the exact route decide.
  if (m > Number.MAX_SAFE_INTEGER) return amountFromQuantity(quantityFromScan(s), s, milli);
  // The value in the target unit is m × 10^t.
  const t = scanned.exp10 - (fracEnd - fracStart) + (milli ? 3 : 0);
  if (t >= 0) {
    if (t > 15) throw unsafeAmount(s, milli);
    const u = m * (POW10[t] as number);
    if (u > Number.MAX_SAFE_INTEGER) throw unsafeAmount(s, milli);
    return { units: u, frac: 0 };
  }
  let units = 0;
  let r = m;
  if (-t <= 15) {
    const p = POW10[-t] as number;
    r = m % p;
    units = (m - r) / p;
    if (r === 0) return { units, frac: 0 };
  }
  // Otherwise m < 2^53 < 10^16 <= 10^-t: the whole value is the fraction r / 10^-t.
  //
  // Upstream keeps nano precision of the base unit, rounding up. In the target
  // unit that is 10^q steps per unit (q = 6 for milli, 9 for units), each
  // `step` billionths wide.
  const q = milli ? 6 : 9;
  const step = milli ? 1000 : 1;
  const k = -t - q;
  let steps: number;
  if (k <= 0) {
    steps = r * (POW10[-k] as number);
  } else if (k > 15) {
    steps = 1;
  } else {
    const dv = POW10[k] as number;
    const rr = r % dv;
    steps = (r - rr) / dv + (rr === 0 ? 0 : 1);
  }
  const frac = steps * step;
  if (frac >= FRAC_ONE) return { units: units + 1, frac: 0 };
  return { units, frac };
}

/** The exact route of parseAmount. */
function amountFromQuantity(q: Quantity, input: string, milli: boolean): Amount {
  if (q.mantissa < 0n) throw negativeError(input);
  if (q.mantissa === 0n) return ZERO_AMOUNT;
  // Billionths of a base unit; the exponent is at least -9. Above 10^40 the
  // whole units exceed 2^53 in either unit.
  const e = q.exponent + 9;
  if (e > 40) throw unsafeAmount(input, milli);
  const nanos = q.mantissa * 10n ** BigInt(e);
  const perUnit = milli ? 1_000_000n : 1_000_000_000n;
  const units = nanos / perUnit;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw unsafeAmount(input, milli);
  const rest = Number(nanos % perUnit);
  return { units: Number(units), frac: milli ? rest * 1000 : rest };
}

/** a + b. The units of the result may exceed 2^53-1: check when converting. */
export function addAmounts(a: Amount, b: Amount): Amount {
  if (b.units === 0 && b.frac === 0) return a;
  if (a.units === 0 && a.frac === 0) return b;
  const frac = a.frac + b.frac;
  return frac >= FRAC_ONE ? { units: a.units + b.units + 1, frac: frac - FRAC_ONE } : { units: a.units + b.units, frac };
}

/** -1, 0 or 1 as a <, =, > b. */
export function compareAmounts(a: Amount, b: Amount): number {
  if (a.units !== b.units) return a.units < b.units ? -1 : 1;
  if (a.frac !== b.frac) return a.frac < b.frac ? -1 : 1;
  return 0;
}

/** An amount of whole units. */
export function wholeAmount(units: number): Amount {
  return units === 0 ? ZERO_AMOUNT : { units, frac: 0 };
}

const BINARY_SUFFIXES: readonly (readonly [number, string])[] = [
  [2 ** 50, 'Pi'],
  [2 ** 40, 'Ti'],
  [2 ** 30, 'Gi'],
  [2 ** 20, 'Mi'],
  [2 ** 10, 'Ki'],
];
const DECIMAL_SUFFIXES: readonly (readonly [number, string])[] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Millicores for messages: 500 → "500m", 2000 → "2" (upstream's canonical form). */
export function formatMilliCpu(milli: number): string {
  if (!Number.isSafeInteger(milli)) return `${milli}m`;
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes for messages: 1073741824 → "1Gi", 1e9 → "1G", 1500 → "1500". */
export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes === 0) return String(bytes);
  const abs = Math.abs(bytes);
  for (const [size, suffix] of BINARY_SUFFIXES) {
    if (abs >= size && abs % size === 0) return `${bytes / size}${suffix}`;
  }
  for (const [size, suffix] of DECIMAL_SUFFIXES) {
    if (abs >= size && abs % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
