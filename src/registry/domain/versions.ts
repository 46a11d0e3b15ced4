import semver from 'semver';

/**
 * Model versions: strict SemVer 2.0, a nightly date (YYYYMMDD) or CalVer (YYYY.M.D / YYYY.MM.DD with an
 * optional ".N" build counter). They are stored and shown exactly as given; they are ordered by their
 * numbers, a date and a CalVer of the same day being the same release (2026.12.6 = 20261206), so
 * nightly and calendar versions sort after the 1.x/2.x releases of a semver series.
 */
export type VersionKind = 'semver' | 'date' | 'calver';

export interface ParsedVersion {
  kind: VersionKind;
  /** major.minor.patch (year.month.day for dates), then the build counter (0 when absent). */
  numbers: [number, number, number, number];
  /** Semver pre-release identifiers, empty for a release. */
  prerelease: (string | number)[];
  text: string;
}

const DATE = /^(\d{4})(\d{2})(\d{2})$/;
const CALVER = /^(\d{4})\.(\d{1,2})\.(\d{1,2})(?:\.(0|[1-9]\d{0,8}))?$/;

export function parseVersion(text: string): ParsedVersion | null {
  const date = DATE.exec(text) ?? CALVER.exec(text);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!isCalendarDay(year, month, day)) return null;
    // "2026.12.6" is also canonical semver: it is the same release either way.
    const kind: VersionKind = DATE.test(text)
      ? 'date'
      : semver.valid(text) === text
        ? 'semver'
        : 'calver';
    return { kind, numbers: [year, month, day, Number(date[4] ?? 0)], prerelease: [], text };
  }
  const parsed = semver.parse(text);
  // semver.parse forgives a leading "v" or spaces and drops build metadata in .version: compare the whole text.
  const canonical =
    parsed && parsed.version + (parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '');
  if (!parsed || canonical !== text) return null;
  return {
    kind: 'semver',
    numbers: [parsed.major, parsed.minor, parsed.patch, 0],
    prerelease: [...parsed.prerelease],
    text,
  };
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Null for an accepted version, else a one-line reason. */
export function checkVersion(version: string): string | null {
  if (!version) return 'version is required';
  if (parseVersion(version)) return null;
  return (
    `version "${version}" is not a semantic version (e.g. 1.2.0), a nightly date (e.g. 20261206) ` +
    'or a calendar version (e.g. 2026.12.6 or 2026.12.06.2)'
  );
}

/**
 * Orders versions: by numbers, then a pre-release before its release (semver precedence), then by
 * text so that the order is total (2026.12.6 before 20261206, the same day). Unparseable versions sort first.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return x ? 1 : y ? -1 : compareText(a, b);
  for (let i = 0; i < 4; i++) {
    if (x.numbers[i] !== y.numbers[i]) return x.numbers[i] < y.numbers[i] ? -1 : 1;
  }
  const pre = comparePrerelease(x.prerelease, y.prerelease);
  return pre !== 0 ? pre : compareText(a, b);
}

function comparePrerelease(a: (string | number)[], b: (string | number)[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const [p, q] = [a[i], b[i]];
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return compareText(p, q);
  }
  return 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const NUMBER_WIDTH = 16;

/**
 * A text whose byte order (SQL `COLLATE "C"`) is compareVersions' order, so that the database can
 * sort and page by version. Numbers are zero-padded; a release ends in "~", which sorts after the
 * "!" that starts a pre-release; numeric identifiers ("0"-led) sort before alphanumeric ("1"-led).
 */
export function versionSortKey(text: string): string {
  const parsed = parseVersion(text);
  if (!parsed) return `!${text}`;
  const numbers = parsed.numbers.map(pad).join('.');
  const pre = parsed.prerelease
    .map((id) => (typeof id === 'number' ? `0${pad(id)}` : `1${id}`))
    .join(' ');
  return `${numbers}${pre ? `!${pre}` : '~'}\t${text}`;
}

function pad(value: number): string {
  return String(value).padStart(NUMBER_WIDTH, '0');
}
