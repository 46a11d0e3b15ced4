import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerCertificate } from '@sentinel/broker';
import { certificateLogin } from './certificate-login.js';

const cert = (cn: string | null, verified = true): PeerCertificate => ({
  cn,
  verified,
  error: verified ? null : 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
});
const device = { clientId: 'cam-1', username: 'cam-1', notADevice: false };
const observer = { clientId: 'dash', username: 'observer', notADevice: true };

describe('certificateLogin', () => {
  it('off: certificates play no part, passwords decide', () => {
    assert.deepEqual(certificateLogin('off', cert('cam-1'), device), { kind: 'password' });
    assert.deepEqual(certificateLogin('off', cert('x', false), device), { kind: 'password' });
    assert.deepEqual(certificateLogin('off', null, device), { kind: 'password' });
  });

  it('a verified certificate authenticates the device named by its CN', () => {
    for (const mode of ['optional', 'required'] as const) {
      assert.deepEqual(certificateLogin(mode, cert('cam-1'), device), {
        kind: 'certificate',
        deviceId: 'cam-1',
      });
      // no user name (no password either): the certificate is enough
      assert.deepEqual(
        certificateLogin(mode, cert('cam-1'), { clientId: 'cam-1', notADevice: false }),
        {
          kind: 'certificate',
          deviceId: 'cam-1',
        },
      );
      // HTTP: no client id
      assert.deepEqual(certificateLogin(mode, cert('cam-1'), { notADevice: false }), {
        kind: 'certificate',
        deviceId: 'cam-1',
      });
    }
  });

  it('refuses a certificate whose CN is not the client id or the user name', () => {
    const byClientId = certificateLogin('optional', cert('cam-2'), device);
    assert.equal(byClientId.kind, 'refuse');
    assert.match((byClientId as { reason: string }).reason, /client id cam-1 is not .* cam-2/);
    const byUser = certificateLogin('optional', cert('cam-1'), { ...device, username: 'cam-9' });
    assert.equal(byUser.kind, 'refuse');
    assert.match((byUser as { reason: string }).reason, /user name cam-9/);
  });

  it('refuses an untrusted certificate instead of falling back to the password', () => {
    const outcome = certificateLogin('optional', cert('cam-1', false), device);
    assert.equal(outcome.kind, 'refuse');
    assert.match((outcome as { reason: string }).reason, /not trusted \(UNABLE_TO_VERIFY/);
  });

  it('refuses a certificate without a single CN', () => {
    assert.equal(certificateLogin('required', cert(null), device).kind, 'refuse');
  });

  it('refuses a device certificate used for a login that is not a device', () => {
    assert.equal(certificateLogin('optional', cert('cam-1'), observer).kind, 'refuse');
  });

  it('without a certificate: optional falls back to the password, required refuses devices only', () => {
    assert.deepEqual(certificateLogin('optional', null, device), { kind: 'password' });
    assert.deepEqual(certificateLogin('required', null, device), {
      kind: 'refuse',
      reason: 'a device certificate is required',
    });
    assert.deepEqual(certificateLogin('required', null, observer), { kind: 'password' });
  });
});
