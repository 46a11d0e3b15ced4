import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAuthMode, tlsFilesOf, tlsProblems } from './tls-config.js';

const plain = { MQTT_PLAINTEXT: true };

describe('tlsProblems', () => {
  it('accepts no TLS at all', () => {
    assert.deepEqual(tlsProblems(plain), []);
  });

  it('wants the certificate and the key together', () => {
    assert.deepEqual(tlsProblems({ ...plain, TLS_CERT_FILE: '/c' }), [
      { path: 'TLS_KEY_FILE', message: 'is required when TLS_CERT_FILE is set' },
    ]);
    assert.deepEqual(tlsProblems({ ...plain, TLS_KEY_FILE: '/k' }), [
      { path: 'TLS_CERT_FILE', message: 'is required when TLS_KEY_FILE is set' },
    ]);
  });

  it('refuses client-certificate settings and TLS-only MQTT without a server certificate', () => {
    assert.deepEqual(
      tlsProblems({ ...plain, TLS_CLIENT_CA_FILE: '/ca', TLS_CLIENT_AUTH: 'required' }).map(
        (p) => p.path,
      ),
      ['TLS_CLIENT_CA_FILE', 'TLS_CLIENT_AUTH'],
    );
    assert.deepEqual(tlsProblems({ MQTT_PLAINTEXT: false }), [
      { path: 'MQTT_PLAINTEXT', message: 'false needs TLS_CERT_FILE and TLS_KEY_FILE' },
    ]);
    // with an external broker the embedded listeners do not exist
    assert.deepEqual(tlsProblems({ MQTT_PLAINTEXT: false, MQTT_URL: 'mqtts://broker' }), []);
  });

  it('refuses optional or required client authentication without a client CA', () => {
    const problems = tlsProblems({
      ...plain,
      TLS_CERT_FILE: '/nonexistent.crt',
      TLS_KEY_FILE: '/nonexistent.key',
      TLS_CLIENT_AUTH: 'required',
    });
    assert.deepEqual(problems[0], {
      path: 'TLS_CLIENT_AUTH',
      message: 'required needs TLS_CLIENT_CA_FILE',
    });
  });
});

describe('clientAuthMode and tlsFilesOf', () => {
  it('defaults to optional with a client CA, off without', () => {
    assert.equal(clientAuthMode({}), 'off');
    assert.equal(clientAuthMode({ TLS_CLIENT_CA_FILE: '/ca' }), 'optional');
    assert.equal(clientAuthMode({ TLS_CLIENT_CA_FILE: '/ca', TLS_CLIENT_AUTH: 'off' }), 'off');
  });

  it('asks for client certificates only when they are used', () => {
    const base = { ...plain, TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k' };
    assert.equal(tlsFilesOf(plain), null);
    assert.deepEqual(tlsFilesOf(base), { certFile: '/c', keyFile: '/k' });
    assert.deepEqual(tlsFilesOf({ ...base, TLS_CLIENT_CA_FILE: '/ca' }), {
      certFile: '/c',
      keyFile: '/k',
      clientCaFile: '/ca',
    });
    assert.deepEqual(tlsFilesOf({ ...base, TLS_CLIENT_CA_FILE: '/ca', TLS_CLIENT_AUTH: 'off' }), {
      certFile: '/c',
      keyFile: '/k',
    });
  });
});
