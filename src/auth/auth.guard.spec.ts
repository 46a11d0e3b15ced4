import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../common/domain-error.js';
import {
  DeviceAccess,
  DeviceOnly,
  RequireRole,
  actorOf,
  type Principal,
  type RequestPrincipal,
} from './auth.decorators.js';
import { AuthGuard } from './auth.guard.js';
import type { DeviceAuthenticator } from './device-authenticator.js';
import type { TokensService } from './tokens.service.js';

class Routes {
  @RequireRole('viewer') tokensOnly() {}
  @RequireRole('viewer') @DeviceAccess() download() {}
  @DeviceOnly() me() {}
}

const VIEWER: Principal = { kind: 'token', tokenId: 't1', name: 'ci', role: 'viewer' };
const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

function setup() {
  const verified: string[] = [];
  const devices: DeviceAuthenticator = {
    verify: (deviceId, secret) => {
      verified.push(deviceId);
      return Promise.resolve(
        deviceId === 'cam-1' && secret === 'right'
          ? { kind: 'device', deviceId, group: 'yard' }
          : null,
      );
    },
    identify: () => Promise.reject(new Error('no certificates in these cases')),
  };
  const tokens = {
    authenticate: (secret: string) => Promise.resolve(secret === 'stl_viewer' ? VIEWER : null),
  } as unknown as TokensService;
  const guard = new AuthGuard(new Reflector(), tokens, devices);
  const call = async (handler: keyof Routes, authorization?: string) => {
    const request: { headers: Record<string, string>; principal?: RequestPrincipal } = {
      headers: authorization ? { authorization } : {},
    };
    const context = {
      getHandler: () => Routes.prototype[handler],
      getClass: () => Routes,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    try {
      await guard.canActivate(context);
      return { principal: request.principal };
    } catch (error) {
      assert.ok(error instanceof DomainError, String(error));
      return { error: `${error.status} ${error.message}` };
    }
  };
  return { call, verified };
}

describe('AuthGuard', () => {
  it('puts a device principal on the request where devices may call, and a token principal otherwise', async () => {
    const { call } = setup();
    const device = await call('download', basic('cam-1:right'));
    assert.deepEqual(device.principal, { kind: 'device', deviceId: 'cam-1', group: 'yard' });
    assert.equal(actorOf(device.principal!), 'device:cam-1');
    const token = await call('download', 'Bearer stl_viewer');
    assert.deepEqual(token.principal, VIEWER);
    assert.equal(actorOf(token.principal!), 'token:ci');
    assert.deepEqual((await call('me', basic('cam-1:right'))).principal?.kind, 'device');
  });

  it('declines a device credential on other routes without looking it up', async () => {
    const { call, verified } = setup();
    assert.match(
      (await call('tokensOnly', basic('cam-1:right'))).error ?? '',
      /^401 device credentials are only accepted for artifact downloads and \/devices\/me/,
    );
    assert.deepEqual(verified, []);
  });

  it('refuses a wrong device secret with 401, and a valid token on a device-only route with 403', async () => {
    const { call } = setup();
    assert.equal(
      (await call('download', basic('cam-1:wrong'))).error,
      '401 unknown device or wrong device secret',
    );
    assert.match(
      (await call('me', 'Bearer stl_viewer')).error ?? '',
      /^403 only devices may make this call/,
    );
    assert.equal((await call('me', 'Bearer stl_nope')).error, '401 invalid or revoked token');
    assert.match((await call('me')).error ?? '', /^401 missing device credentials/);
  });
});
