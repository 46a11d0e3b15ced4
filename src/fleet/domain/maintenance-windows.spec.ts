import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkWindow, windowState, type MaintenanceWindow } from './maintenance-windows.js';

// Monday 2026-12-07.
const at = (iso: string) => new Date(iso);
const weeknights: MaintenanceWindow = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '22:00',
  end: '04:00',
  time_zone: 'Europe/Berlin',
};

describe('maintenance windows', () => {
  it('is always open without windows', () => {
    assert.deepEqual(windowState([], at('2026-12-07T12:00:00Z')), { open: true, until: null });
  });

  it('opens and closes in its own time zone, across midnight', () => {
    // 12:00 UTC = 13:00 in Berlin (CET): closed, opens at 22:00 Berlin = 21:00 UTC.
    assert.deepEqual(windowState([weeknights], at('2026-12-07T12:00:00Z')), {
      open: false,
      opensAt: at('2026-12-07T21:00:00Z'),
    });
    // 23:30 Berlin on Monday: open until 04:00 Berlin on Tuesday.
    assert.deepEqual(windowState([weeknights], at('2026-12-07T22:30:00Z')), {
      open: true,
      until: at('2026-12-08T03:00:00Z'),
    });
    // Saturday 02:00 Berlin: still Friday's window.
    assert.equal(windowState([weeknights], at('2026-12-12T01:00:00Z')).open, true);
    // Saturday 23:00 Berlin: no window on Saturday; the next opens Monday 22:00.
    assert.deepEqual(windowState([weeknights], at('2026-12-12T22:00:00Z')), {
      open: false,
      opensAt: at('2026-12-14T21:00:00Z'),
    });
  });

  it('follows daylight saving time (22:00 Berlin is 20:00 UTC in summer)', () => {
    assert.deepEqual(windowState([weeknights], at('2026-07-06T12:00:00Z')), {
      open: false,
      opensAt: at('2026-07-06T20:00:00Z'),
    });
  });

  it('is open when any of several windows is', () => {
    const lunch: MaintenanceWindow = { days: ['mon'], start: '12:00', end: '13:00' };
    assert.deepEqual(windowState([weeknights, lunch], at('2026-12-07T12:30:00Z')), {
      open: true,
      until: at('2026-12-07T13:00:00Z'),
    });
  });

  it('refuses malformed windows with a reason', () => {
    const ok = { days: ['mon' as const], start: '01:00', end: '02:00' };
    assert.equal(checkWindow(ok), null);
    assert.match(checkWindow({ ...ok, days: [] }) ?? '', /at least one day/);
    assert.match(checkWindow({ ...ok, days: ['funday' as never] }) ?? '', /day "funday"/);
    assert.match(checkWindow({ ...ok, start: '24:00' }) ?? '', /start "24:00" must be HH:MM/);
    assert.match(checkWindow({ ...ok, end: '01:00' }) ?? '', /must differ/);
    assert.match(checkWindow({ ...ok, time_zone: 'Mars/Olympus' }) ?? '', /not an IANA time zone/);
  });
});
