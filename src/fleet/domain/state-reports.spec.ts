import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilitiesOf, latestPerDevice, type DeviceStateReport } from './state-reports.js';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
const report = (deviceId: string, second: number, online = true): DeviceStateReport => ({
  deviceId,
  online,
  at: at(second),
  reported: { second },
});

describe('latestPerDevice', () => {
  it('keeps one report per device, the latest one', () => {
    const result = latestPerDevice([
      report('a', 1),
      report('b', 5),
      report('a', 3),
      report('a', 2),
    ]);
    assert.deepEqual(
      result.map((r) => [r.deviceId, r.at.getUTCSeconds()]),
      [
        ['a', 3],
        ['b', 5],
      ],
    );
  });

  it('lets the later arrival win when two reports have the same time', () => {
    const result = latestPerDevice([report('a', 1, true), report('a', 1, false)]);
    assert.equal(result.length, 1);
    assert.equal(result[0].online, false);
  });

  it('gives nothing for nothing', () => {
    assert.deepEqual(latestPerDevice([]), []);
  });
});

describe('capabilitiesOf', () => {
  it("is the state's capabilities, or null to keep the stored ones", () => {
    const capabilities = { max_opset: 21, labels: ['camera:ip67'] };
    assert.deepEqual(capabilitiesOf({ device_id: 'a', capabilities }), capabilities);
    assert.equal(capabilitiesOf({ device_id: 'a', online: false }), null, 'a Last Will');
    assert.equal(capabilitiesOf(null), null);
    assert.equal(capabilitiesOf({ capabilities: ['x'] }), null);
  });
});
