import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorize,
  isPublishableTopic,
  isWellFormedFilter,
  type AclAction,
  type AclDecision,
  type Principal,
} from './acl.js';
import { parseTopic } from './topics.js';

const P = {
  hub: { kind: 'hub' },
  observer: { kind: 'observer' },
  // cam-1 is in group lobby; cam-2 (the "other device") is in garage.
  cam1: { kind: 'device', deviceId: 'cam-1', group: 'lobby' },
  loner: { kind: 'device', deviceId: 'loner', group: null },
  badDevice: { kind: 'device', deviceId: '+', group: 'lobby' },
  badGroup: { kind: 'device', deviceId: 'cam-3', group: '#' },
} satisfies Record<string, Principal>;
type Who = keyof typeof P;

type Row = [who: Who, action: AclAction, topic: string, expected: AclDecision, why?: string];

const rows: Row[] = [
  // ---- device cam-1 (group lobby), subscribe
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/desired', 'allow'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/desired', 'allow'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/commands', 'allow'],
  [
    'cam1',
    'subscribe',
    'sentinel/v1/devices/cam-1/state',
    'deny',
    'own state is written, not read',
  ],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/telemetry', 'deny', 'same for telemetry'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/garage/desired', 'deny', 'other group'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/desired', 'deny', 'other device'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/commands', 'deny', 'other device'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/state', 'deny', "other device's state"],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/telemetry', 'deny', "other device's telemetry"],
  ['cam1', 'subscribe', 'sentinel/v1/#', 'deny', 'wildcard: would include every device'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/+/desired', 'deny', 'wildcard over groups'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/+', 'deny', 'wildcard even within its group'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/#', 'deny', 'wildcard even within its group'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/#', 'deny', 'wildcard even on itself'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/+', 'deny', 'wildcard even on itself'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/+/desired', 'deny', 'wildcard over devices'],
  ['cam1', 'subscribe', '#', 'deny'],
  ['cam1', 'subscribe', '+/v1/devices/cam-1/desired', 'deny', 'wildcard in the root'],
  ['cam1', 'subscribe', '$SYS/#', 'deny'],
  ['cam1', 'subscribe', 'other/topic', 'deny', 'outside sentinel/v1'],
  ['cam1', 'subscribe', 'sentinel/v2/devices/cam-1/desired', 'deny', 'other protocol version'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/CAM-1/desired', 'deny', 'ids are case-sensitive'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/desired/', 'deny', 'trailing empty level'],
  ['cam1', 'subscribe', 'sentinel/v1//devices/cam-1/desired', 'deny', 'empty level'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/desired/x', 'deny', 'extra level'],
  ['cam1', 'subscribe', '', 'deny'],
  // ---- device cam-1: named models (docs/protocol.md 6.6)
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/models/+/desired', 'allow', 'every named model'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/models/+/desired', 'allow', 'own overrides'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/models/classifier/desired', 'allow'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-1/models/classifier/desired', 'allow'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/garage/models/+/desired', 'deny', 'other group'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/garage/models/classifier/desired', 'deny'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/models/+/desired', 'deny', 'other device'],
  ['cam1', 'subscribe', 'sentinel/v1/devices/cam-2/models/classifier/desired', 'deny'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/models/#', 'deny', "only '+' as the name"],
  ['cam1', 'subscribe', 'sentinel/v1/groups/lobby/models/+/+', 'deny', 'wildcard leaf'],
  ['cam1', 'subscribe', 'sentinel/v1/groups/+/models/+/desired', 'deny', 'wildcard over groups'],
  [
    'cam1',
    'subscribe',
    'sentinel/v1/groups/lobby/models/default/desired',
    'deny',
    'default has no named topic',
  ],
  ['cam1', 'publish', 'sentinel/v1/groups/lobby/models/classifier/desired', 'deny'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/models/classifier/desired', 'deny'],
  ['loner', 'subscribe', 'sentinel/v1/devices/loner/models/+/desired', 'allow'],
  ['loner', 'subscribe', 'sentinel/v1/groups/lobby/models/+/desired', 'deny', 'no group'],
  // ---- device cam-1, publish
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/state', 'allow'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/telemetry', 'allow'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-2/state', 'deny', 'spoofing another device'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-2/telemetry', 'deny', 'spoofing another device'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/desired', 'deny', 'would override its own target'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/commands', 'deny', 'commands come from the hub'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-2/desired', 'deny'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-2/commands', 'deny'],
  ['cam1', 'publish', 'sentinel/v1/groups/lobby/desired', 'deny', 'would redeploy the whole group'],
  ['cam1', 'publish', 'sentinel/v1/groups/garage/desired', 'deny'],
  ['cam1', 'publish', 'sentinel/v1/devices/+/state', 'deny', 'wildcards are invalid in PUBLISH'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/#', 'deny', 'wildcards are invalid in PUBLISH'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/logs', 'deny', 'unknown leaf'],
  ['cam1', 'publish', 'sentinel/v1/devices/cam-1/state/', 'deny', 'trailing empty level'],
  ['cam1', 'publish', '$SYS/broker/uptime', 'deny'],
  ['cam1', 'publish', 'other/topic', 'deny'],
  // ---- device without a group
  ['loner', 'subscribe', 'sentinel/v1/devices/loner/desired', 'allow'],
  ['loner', 'subscribe', 'sentinel/v1/devices/loner/commands', 'allow'],
  ['loner', 'subscribe', 'sentinel/v1/groups/lobby/desired', 'deny', 'no group: no group topic'],
  [
    'loner',
    'subscribe',
    'sentinel/v1/groups/null/desired',
    'deny',
    'null group must not become "null"',
  ],
  ['loner', 'publish', 'sentinel/v1/devices/loner/state', 'allow'],
  // ---- principals with ids that are not valid topic levels (a bug upstream): no access at all
  ['badDevice', 'subscribe', 'sentinel/v1/devices/+/desired', 'deny', "'+' id would be a wildcard"],
  ['badDevice', 'publish', 'sentinel/v1/devices/cam-1/state', 'deny'],
  ['badDevice', 'subscribe', 'sentinel/v1/groups/lobby/desired', 'deny', 'not even its group'],
  ['badGroup', 'subscribe', 'sentinel/v1/groups/#/desired', 'deny', "'#' group"],
  ['badGroup', 'subscribe', 'sentinel/v1/devices/cam-3/desired', 'allow', 'own topics still fine'],
  // ---- observer
  ['observer', 'subscribe', 'sentinel/v1/#', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/+/state', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/+/telemetry', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/groups/+/desired', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/groups/lobby/desired', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/groups/garage/desired', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-1/desired', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-2/desired', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-1/commands', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-2/commands', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-1/state', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-2/state', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-1/telemetry', 'allow'],
  ['observer', 'subscribe', 'sentinel/v1/devices/cam-2/telemetry', 'allow'],
  ['observer', 'subscribe', 'sentinel/#', 'deny', 'reaches beyond v1'],
  ['observer', 'subscribe', '#', 'deny', 'reaches beyond sentinel/v1'],
  ['observer', 'subscribe', '+/v1/#', 'deny', 'wildcard root level matches other roots'],
  ['observer', 'subscribe', 'sentinel/+/devices/#', 'deny', 'wildcard version level'],
  ['observer', 'subscribe', 'sentinel/v1', 'deny', 'the root itself is not under the root'],
  ['observer', 'subscribe', '$SYS/#', 'deny', 'broker internals are hub-only'],
  ['observer', 'subscribe', 'other/#', 'deny'],
  ['observer', 'subscribe', 'sentinel/v1//x', 'deny', 'empty level'],
  ['observer', 'subscribe', 'sentinel/v1/#/x', 'deny', "'#' must be last"],
  ['observer', 'subscribe', 'sentinel/v1/dev+', 'deny', "'+' must be a whole level"],
  ['observer', 'publish', 'sentinel/v1/devices/cam-1/state', 'deny', 'observers never publish'],
  ['observer', 'publish', 'sentinel/v1/devices/cam-1/telemetry', 'deny'],
  ['observer', 'publish', 'sentinel/v1/devices/cam-1/desired', 'deny'],
  ['observer', 'publish', 'sentinel/v1/devices/cam-1/commands', 'deny'],
  ['observer', 'publish', 'sentinel/v1/groups/lobby/desired', 'deny'],
  ['observer', 'publish', 'other/topic', 'deny'],
  // ---- hub
  ['hub', 'subscribe', '#', 'allow', 'the hub may do everything well formed'],
  ['hub', 'subscribe', 'sentinel/v1/#', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/devices/+/state', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/devices/cam-1/state', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/devices/cam-1/telemetry', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/devices/cam-1/desired', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/devices/cam-1/commands', 'allow'],
  ['hub', 'subscribe', 'sentinel/v1/groups/lobby/desired', 'allow'],
  ['hub', 'subscribe', '$SYS/#', 'allow', 'monitoring'],
  ['hub', 'subscribe', 'sentinel/v1//x', 'deny', 'malformed even for the hub'],
  ['hub', 'subscribe', 'a/#/b', 'deny', 'malformed even for the hub'],
  ['hub', 'publish', 'sentinel/v1/groups/lobby/desired', 'allow'],
  ['hub', 'publish', 'sentinel/v1/devices/cam-1/desired', 'allow'],
  ['hub', 'publish', 'sentinel/v1/devices/cam-1/commands', 'allow'],
  ['hub', 'publish', 'sentinel/v1/devices/cam-1/state', 'allow', 'e.g. clearing a deleted device'],
  ['hub', 'publish', 'sentinel/v1/devices/cam-1/telemetry', 'allow'],
  ['hub', 'publish', 'other/topic', 'allow'],
  ['hub', 'publish', '$SYS/x', 'deny', "'$' topics belong to the broker"],
  ['hub', 'publish', 'sentinel/v1/devices/+/state', 'deny', 'wildcards are invalid in PUBLISH'],
  ['hub', 'publish', 'a//b', 'deny', 'empty level'],
  ['hub', 'publish', '', 'deny'],
];

describe('acl authorize', () => {
  for (const [who, action, topic, expected, why] of rows) {
    it(`${who} ${action} ${JSON.stringify(topic)} -> ${expected}${why ? ` (${why})` : ''}`, () => {
      assert.equal(authorize(P[who], action, topic), expected);
    });
  }

  it('the table covers every principal x action x topic kind x self/other', () => {
    const covered = new Set<string>();
    for (const [who, action, topic] of rows) {
      const parsed = parseTopic(topic);
      if (!parsed || (who !== 'cam1' && who !== 'observer' && who !== 'hub')) continue;
      const owner =
        'group' in parsed
          ? parsed.group === 'lobby'
            ? 'self'
            : 'other'
          : parsed.device === 'cam-1'
            ? 'self'
            : 'other';
      covered.add(`${who}|${action}|${parsed.kind}|${owner}`);
    }
    const missing: string[] = [];
    for (const who of ['cam1', 'observer', 'hub']) {
      for (const action of ['subscribe', 'publish']) {
        for (const kind of [
          'group_desired',
          'device_desired',
          'device_commands',
          'device_state',
          'device_telemetry',
        ]) {
          // The hub's and observer's rows for "other" devices are the same rule; self is enough there.
          const owners = who === 'cam1' ? ['self', 'other'] : ['self'];
          for (const owner of owners) {
            const key = `${who}|${action}|${kind}|${owner}`;
            if (!covered.has(key)) missing.push(key);
          }
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});

describe('topic well-formedness', () => {
  it('isPublishableTopic', () => {
    assert.equal(isPublishableTopic('a/b'), true);
    for (const t of [
      '',
      '/a',
      'a/',
      'a//b',
      'a/+',
      'a/#',
      '$SYS/x',
      'a\u0000b',
      'x'.repeat(65_536),
    ]) {
      assert.equal(isPublishableTopic(t), false, t.slice(0, 20));
    }
  });

  it('isWellFormedFilter', () => {
    for (const f of ['#', '+', 'a/+/b', 'a/#', '+/+', '$SYS/#'])
      assert.equal(isWellFormedFilter(f), true, f);
    for (const f of ['', 'a/#/b', 'a+', 'a/b#', '#/a', 'a//b', 'a/'])
      assert.equal(isWellFormedFilter(f), false, f);
  });
});
