import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  addAmounts,
  compareAmounts,
  formatBytes,
  formatMilliCpu,
  isQuantity,
  milliValue,
  parseAmount,
  parseQuantity,
  QuantityError,
  toMilli,
  toUnits,
  value,
} from './quantity.js';
import type { QuantityErrorCode } from './quantity.js';

const MAX = Number.MAX_SAFE_INTEGER;

function errorOf(fn: () => unknown): QuantityError {
  try {
    fn();
  } catch (err) {
    if (err instanceof QuantityError) return err;
    throw err;
  }
  throw new Error('expected a QuantityError');
}

describe('parseQuantity', () => {
  // Mirrors TestQuantityParse in k8s.io/apimachinery/pkg/api/resource/quantity_test.go:
  // expected values as canonical mantissa × 10^exponent.
  test.each<[string, bigint, number]>([
    ['0', 0n, 0],
    ['0n', 0n, 0],
    ['0u', 0n, 0],
    ['0m', 0n, 0],
    ['0Ki', 0n, 0],
    ['0k', 0n, 0],
    ['0Mi', 0n, 0],
    ['0Ti', 0n, 0],
    ['-0', 0n, 0],
    ['0.000', 0n, 0],
    ['0e2147483647', 0n, 0],
    // Quantity-less numbers.
    ['1', 1n, 0],
    ['+1', 1n, 0],
    ['007', 7n, 0],
    // Binary suffixes.
    ['1Ki', 1024n, 0],
    ['8Ki', 8192n, 0],
    ['7Mi', 7340032n, 0],
    ['6Gi', 6442450944n, 0],
    ['5Ti', 549755813888n, 1],
    ['4Pi', 4503599627370496n, 0],
    ['3Ei', 3458764513820540928n, 0],
    ['10Ti', 1099511627776n, 1],
    // Exact where upstream caps at 2^63-1.
    ['8Ei', 9223372036854775808n, 0],
    ['9223372036854775807Ki', 9444732965739290426368n, 0],
    // Decimal suffixes.
    ['5n', 5n, -9],
    ['4u', 4n, -6],
    ['3m', 3n, -3],
    ['9', 9n, 0],
    ['8k', 8n, 3],
    ['50k', 5n, 4],
    ['7M', 7n, 6],
    ['6G', 6n, 9],
    ['5T', 5n, 12],
    ['40T', 4n, 13],
    ['300T', 3n, 14],
    ['2P', 2n, 15],
    ['1E', 1n, 18],
    ['12E', 12n, 18],
    // Decimal exponents.
    ['1E-3', 1n, -3],
    ['1e3', 1n, 3],
    ['1E6', 1n, 6],
    ['1e9', 1n, 9],
    ['1E12', 1n, 12],
    ['1e15', 1n, 15],
    ['1E18', 1n, 18],
    ['1e+3', 1n, 3],
    ['1e0003', 1n, 3],
    ['1e2147483647', 1n, 2147483647],
    ['100.035k', 100035n, 0],
    // Things that look like floating point.
    ['1.5', 15n, -1],
    ['.5', 5n, -1],
    ['0.001', 1n, -3],
    ['0.0005k', 5n, -1],
    ['0.00050k', 5n, -1],
    ['0.05000', 5n, -2],
    ['0.5e0', 5n, -1],
    ['0.5e-2', 5n, -3],
    ['10.035M', 10035n, 3],
    ['1.2e3', 12n, 2],
    ['1.3E+6', 13n, 5],
    ['1.40e9', 14n, 8],
    ['1.53E12', 153n, 10],
    ['1.7E18', 17n, 17],
    ['9.01', 901n, -2],
    ['7.123456M', 7123456n, 0],
    ['6.987654321G', 6987654321n, 0],
    ['1.01E', 101n, 16],
    ['18446744073709551616', 18446744073709551616n, 0],
    // Things that round up to nano.
    ['3.001n', 4n, -9],
    ['1.1E-9', 2n, -9],
    ['0.0000000001', 1n, -9],
    ['0.0000000005', 1n, -9],
    ['0.5e-9', 1n, -9],
    ['0.9n', 1n, -9],
    ['0.00000012345', 124n, -9],
    ['0.00000012354', 124n, -9],
    ['1e-2147483647', 1n, -9],
    // Fractional binary quantities.
    ['100.035Ki', 10243584n, -2],
    ['0.5Mi', 524288n, 0],
    ['0.05Gi', 536870912n, -1],
    ['0.025Ti', 274877906944n, -1],
    // Things written by trolls.
    ['0.000000000001Ki', 2n, -9],
    ['.001', 1n, -3],
    ['.0001k', 1n, -1],
    ['1.', 1n, 0],
    ['1.G', 1n, 9],
    // Negative values parse (the number helpers reject them unless asked).
    ['-1', -1n, 0],
    ['-1.5', -15n, -1],
    ['-0.9n', -1n, -9],
    ['-3Ki', -3072n, 0],
  ])('%s = %p × 10^%p', (input, mantissa, exponent) => {
    expect(parseQuantity(input)).toEqual({ mantissa, exponent });
  });

  // Mirrors the `invalid` list of TestQuantityParse and TestInterpretExponentInt32Bounds
  // (quantity_test.go), plus the digit-less forms upstream's scanner lets through.
  test.each<[string, QuantityErrorCode]>([
    ['', 'empty'],
    [' 1', 'syntax'],
    ['1 ', 'syntax'],
    ['1 Ki', 'syntax'],
    ['1.5.5', 'syntax'],
    ['1.1.M', 'syntax'],
    ['1+1.0M', 'syntax'],
    ['1Kib', 'syntax'],
    ['KI', 'syntax'],
    ['Ki', 'syntax'],
    ['--1', 'syntax'],
    ['+-1', 'syntax'],
    ['e3', 'syntax'],
    ['m', 'syntax'],
    ['.', 'syntax'],
    ['+', 'syntax'],
    ['-', 'syntax'],
    ['-.', 'syntax'],
    ['aoeu', 'syntax'],
    ['0.1am', 'syntax'],
    ['1e3.5', 'syntax'],
    ['1e--3', 'syntax'],
    ['1,5', 'syntax'],
    ['0x10', 'syntax'],
    ['1_000', 'syntax'],
    ['Infinity', 'syntax'],
    ['NaN', 'syntax'],
    ['１', 'syntax'],
    ['1\n', 'syntax'],
    ['1e', 'suffix'],
    ['1E+', 'suffix'],
    ['-3.01e-', 'suffix'],
    ['0.1mi', 'suffix'],
    ['.5i', 'suffix'],
    ['1i', 'suffix'],
    ['-3.01i', 'suffix'],
    ['1K', 'suffix'],
    ['1ki', 'suffix'],
    ['1Mi3', 'suffix'],
    ['1ee3', 'suffix'],
    ['1Ke3', 'suffix'],
    ['1e4294967297', 'suffix'],
    ['1E2147483648', 'suffix'],
    ['1E-2147483648', 'suffix'],
    ['1E9223372036854775808', 'suffix'],
    ['1'.repeat(1025), 'too-long'],
  ])('%p is rejected (%s)', (input, code) => {
    const err = errorOf(() => parseQuantity(input));
    expect(err).toBeInstanceOf(QuantityError);
    expect(err.code).toBe(code);
    expect(err.input).toBe(input);
    expect(err.message).toContain(err.reason);
    expect(isQuantity(input)).toBe(false);
  });
});

describe('toMilli and toUnits', () => {
  // As MilliValue and Value (quantity_test.go TestQuantityRoundUp): rounded up, away from zero.
  test.each<[string, bigint, bigint]>([
    ['0', 0n, 0n],
    ['100m', 100n, 1n],
    ['1', 1000n, 1n],
    ['1.5', 1500n, 2n],
    ['.5', 500n, 1n],
    ['1Ki', 1024000n, 1024n],
    ['1n', 1n, 1n],
    ['0.1m', 1n, 1n],
    ['1e-3', 1n, 1n],
    ['9.01', 9010n, 10n],
    ['8Ei', 9223372036854775808000n, 9223372036854775808n],
    ['1e30', 10n ** 33n, 10n ** 30n],
    ['-1.5', -1500n, -2n],
    ['-100m', -100n, -1n],
    ['-9.01', -9010n, -10n],
  ])('%s → %p milli, %p units', (input, milli, units) => {
    const q = parseQuantity(input);
    expect(toMilli(q)).toBe(milli);
    expect(toUnits(q)).toBe(units);
  });

  test('an absurd exponent is refused rather than expanded', () => {
    expect(errorOf(() => toUnits(parseQuantity('1e2147483647'))).code).toBe('out-of-range');
  });
});

describe('milliValue', () => {
  test.each<[string, number]>([
    ['100m', 100],
    ['1', 1000],
    ['1.5', 1500],
    ['.5', 500],
    ['+1', 1000],
    ['250m', 250],
    ['0.1m', 1],
    ['1u', 1],
    ['1n', 1],
    ['1e3', 1_000_000],
    ['1E-3', 1],
    ['1k', 1_000_000],
    ['64', 64_000],
    ['3.14159', 3142],
    ['0', 0],
    ['-0', 0],
    ['9007199254740991m', MAX],
    ['9007199254740.991', MAX],
    ['1234567890123456789012e-9', 1234567890123457],
  ])('%s → %p', (input, expected) => {
    expect(milliValue(input)).toBe(expected);
  });

  test.each<[string, QuantityErrorCode]>([
    ['-100m', 'negative'],
    ['-1', 'negative'],
    ['9007199254741', 'out-of-range'],
    ['9007199254740992m', 'out-of-range'],
    ['1E', 'out-of-range'],
    ['1e2147483647', 'out-of-range'],
    ['1Kib', 'syntax'],
  ])('%s is refused (%s)', (input, code) => {
    expect(errorOf(() => milliValue(input)).code).toBe(code);
  });

  test('negative values when allowed', () => {
    expect(milliValue('-100m', { allowNegative: true })).toBe(-100);
    expect(milliValue('-1.0001', { allowNegative: true })).toBe(-1001);
    expect(errorOf(() => milliValue('-9007199254741', { allowNegative: true })).code).toBe('out-of-range');
  });
});

describe('value', () => {
  test.each<[string, number]>([
    ['1Ki', 1024],
    ['2Ki', 2048],
    ['1Mi', 1_048_576],
    ['123Mi', 128_974_848],
    ['1Gi', 1_073_741_824],
    ['1.5Gi', 1_610_612_736],
    ['1Ti', 1_099_511_627_776],
    ['1Pi', 1_125_899_906_842_624],
    ['7Pi', 7_881_299_347_898_368],
    ['1k', 1000],
    ['1M', 1_000_000],
    ['129M', 129_000_000],
    ['129e6', 129_000_000],
    ['128974848', 128_974_848],
    ['1G', 1_000_000_000],
    ['1T', 1_000_000_000_000],
    ['1P', 1_000_000_000_000_000],
    ['100m', 1],
    ['1.1', 2],
    ['0.5', 1],
    ['1e-20', 1],
    ['0.0000000001', 1],
    ['9007199254740991', MAX],
    ['104845292Ki', 107_361_579_008],
    ['0.1Ki', 103],
  ])('%s → %p', (input, expected) => {
    expect(value(input)).toBe(expected);
  });

  test.each<[string, QuantityErrorCode]>([
    ['9007199254740992', 'out-of-range'],
    ['8Ei', 'out-of-range'],
    ['1E', 'out-of-range'],
    ['8Pi', 'out-of-range'],
    ['-1', 'negative'],
    ['-0.5Gi', 'negative'],
    ['', 'empty'],
  ])('%s is refused (%s)', (input, code) => {
    expect(errorOf(() => value(input)).code).toBe(code);
  });

  test('negative values when allowed', () => {
    expect(value('-1.5', { allowNegative: true })).toBe(-2);
    expect(value('-1Ki', { allowNegative: true })).toBe(-1024);
  });
});

describe('parseAmount', () => {
  test.each<[string, boolean, number, number]>([
    ['500m', true, 500, 0],
    ['0.5m', true, 0, 500_000_000],
    ['1u', true, 0, 1_000_000],
    ['1n', true, 0, 1000],
    ['0.1n', true, 0, 1000],
    ['0.1', false, 0, 100_000_000],
    ['1.5', false, 1, 500_000_000],
    ['1n', false, 0, 1],
    ['1e-20', false, 0, 1],
    ['0.9999999999', false, 1, 0],
    ['0.5Mi', false, 524_288, 0],
  ])('%s (milli: %p) = %p + %p/1e9', (input, milli, units, frac) => {
    expect(parseAmount(input, milli)).toEqual({ units, frac });
  });

  test('sums keep sub-unit fractions exact', () => {
    const half = parseAmount('0.5m', true);
    expect(addAmounts(half, half)).toEqual({ units: 1, frac: 0 });
    expect(compareAmounts(half, parseAmount('500u', true))).toBe(0);
    expect(compareAmounts(half, parseAmount('1m', true))).toBe(-1);
  });

  // The number fast path must agree with the exact bigint route on every input.
  test('agrees with the exact route', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9'), maxLength: 20 });
    const suffix = fc.oneof(
      fc.constantFrom('', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'),
      fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 40 })).map(([e, s, n]) => `${e}${s}${n}`),
    );
    const quantity = fc
      .tuple(fc.constantFrom('', '+'), digits, fc.option(digits, { nil: undefined }), suffix)
      .filter(([, int, frac]) => int.length + (frac ?? '').length > 0)
      .map(([sign, int, frac, suf]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${suf}`);
    fc.assert(
      fc.property(quantity, fc.boolean(), (s, milli) => {
        const q = parseQuantity(s);
        const exact = milli ? toMilli(q) : toUnits(q);
        let amount;
        try {
          amount = parseAmount(s, milli);
        } catch (err) {
          expect(err).toBeInstanceOf(QuantityError);
          expect((err as QuantityError).code).toBe('out-of-range');
          expect(exact > BigInt(MAX) - 1n).toBe(true);
          return;
        }
        // units + frac/1e9, scaled by 1e9, is the exact value in the unit, scaled by 1e9.
        const shift = q.exponent + (milli ? 3 : 0) + 9;
        const scaled = shift >= 0 ? q.mantissa * 10n ** BigInt(shift) : q.mantissa / 10n ** BigInt(-shift);
        expect(BigInt(amount.units) * 1_000_000_000n + BigInt(amount.frac)).toBe(scaled);
        expect(BigInt(amount.frac > 0 ? amount.units + 1 : amount.units)).toBe(exact);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('formatting', () => {
  test.each<[number, string]>([
    [500, '500m'],
    [2000, '2'],
    [1500, '1500m'],
    [0, '0'],
    [100, '100m'],
  ])('formatMilliCpu(%p) = %p', (n, s) => {
    expect(formatMilliCpu(n)).toBe(s);
  });

  test.each<[number, string]>([
    [1073741824, '1Gi'],
    [3072, '3Ki'],
    [1536, '1536'],
    [200 * 1024 * 1024, '200Mi'],
    [2 ** 50, '1Pi'],
    [1e9, '1G'],
    [1000, '1k'],
    [1500, '1500'],
    [512, '512'],
    [0, '0'],
    [-2048, '-2Ki'],
  ])('formatBytes(%p) = %p', (n, s) => {
    expect(formatBytes(n)).toBe(s);
    // What is printed parses back to the same value.
    if (n >= 0) expect(value(s)).toBe(n);
  });
});
