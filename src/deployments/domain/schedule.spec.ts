import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { notificationHold } from './schedule.js';

const now = new Date('2026-12-07T12:00:00Z');
const closed = [{ days: ['mon' as const], start: '20:00', end: '21:00' }];
const open = [{ days: ['mon' as const], start: '11:00', end: '13:00' }];

describe('what holds a deployment', () => {
  it('holds until the scheduled start, then not', () => {
    assert.equal(
      notificationHold(new Date('2026-12-07T12:05:00Z'), [], now),
      'scheduled: starts at 2026-12-07T12:05:00.000Z',
    );
    assert.equal(notificationHold(new Date('2026-12-07T11:00:00Z'), [], now), null);
  });

  it('holds while any target group is outside its windows, saying until when', () => {
    assert.equal(
      notificationHold(
        null,
        [
          { name: 'north', windows: open },
          { name: 'south', windows: closed },
        ],
        now,
      ),
      'waiting for the maintenance window of group south: opens at 2026-12-07T20:00:00.000Z',
    );
    assert.equal(
      notificationHold(
        null,
        [
          { name: 'north', windows: open },
          { name: 'x', windows: [] },
        ],
        now,
      ),
      null,
    );
  });
});
