/**
 * What the hub accepts as text and JSON from a client, checked once at the edge so that no engine
 * (PostgreSQL's text and jsonb, class-transformer's recursion) is the first to find out:
 * - no NUL characters (PostgreSQL text and jsonb cannot hold U+0000),
 * - well-formed Unicode (a lone UTF-16 surrogate, e.g. JSON "\ud800", is refused by jsonb),
 * - JSON nested at most MAX_JSON_DEPTH levels (deeper bodies overflowed the stack of the validation).
 */
export const MAX_JSON_DEPTH = 32;

// With the u flag a surrogate pair is one code point, so only a lone surrogate matches.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why a piece of text cannot be accepted, or null when it can. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it has a lone UTF-16 surrogate)';
  return null;
}

/**
 * Why a parsed JSON value (or a query object) cannot be accepted, naming where (`label.key[0]`),
 * or null when it can. Iterative, so a value of any depth is judged without recursion.
 */
export function jsonProblem(value: unknown, label = 'body'): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value, path: label, depth: 0 },
  ];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return `${path} ${problem}`;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `${label} is nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(current)) {
      current.forEach((item, i) =>
        stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }),
      );
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      const keyProblem = textProblem(key);
      if (keyProblem) return `a key of ${path} ${keyProblem}`;
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}
