import fc from 'fast-check';

/**
 * The seed of a fuzz run: FUZZ_SEED when set (to replay a failure), otherwise a fresh one. It is
 * printed with the suite's name, so a failure in CI can be replayed with the same inputs.
 */
export function fuzzSeed(suite: string): number {
  const fromEnv = process.env.FUZZ_SEED;
  const seed =
    fromEnv !== undefined && /^-?\d+$/.test(fromEnv)
      ? Number(fromEnv)
      : Math.floor(Math.random() * 2 ** 31);
  console.log(`${suite}: fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}

/** Runs of a property: `base`, times FUZZ_SCALE (e.g. 10 for a longer run; default 1). */
export function fuzzRuns(base: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** Text a client could send: printable, any Unicode, control characters and lone surrogates. */
export const hostileText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      maxLength,
    }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\ud800',
      '\udc00x',
      '../../etc/passwd',
      '%00',
      '%ff',
      '%',
      '1e20',
      '-1',
      '0x10',
      '99999999999999999999',
      'NaN',
      'Infinity',
      'true',
      'null',
      '[]',
      '{}',
      '__proto__',
      'constructor',
      'a'.repeat(300),
    ),
  );

/** A number as a client could write it in a query or a JSON body. */
export const hostileNumber = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -1, 1, 500, 501, 2 ** 31, 2 ** 53, 1e20, -0, Number.MAX_VALUE),
  );

/** A JSON value nested `depth` levels deep (arrays and objects alternating). */
export function deepJson(depth: number): string {
  let text = '1';
  for (let i = 0; i < depth; i++) text = i % 2 ? `[${text}]` : `{"a":${text}}`;
  return text;
}

/** encodeURIComponent that does not throw on lone surrogates (sent as U+FFFD, as a browser would). */
export function encodeText(text: string): string {
  return encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\ufffd'));
}
