import type { Server } from 'node:https';
import { Logger } from '@nestjs/common';
import type { HttpsOptions } from '@nestjs/common/interfaces/external/https-options.interface.js';
import { TlsReloader } from '@sentinel/broker';
import type { AppConfig } from '../config/app-config.js';
import { tlsFilesOf } from '../config/tls-config.js';

/**
 * The REST API over HTTPS when TLS_CERT_FILE and TLS_KEY_FILE are set: the options for Nest's
 * server, and `attach` to give it a new certificate whenever the files change (no restart, open
 * connections keep theirs). With a client CA, certificates are asked for but never demanded at the
 * handshake: browsers and token holders have none; the auth guard decides what one means.
 */
export function httpsServer(
  config: AppConfig,
): { options: HttpsOptions; attach(server: Server): void } | null {
  const files = tlsFilesOf(config);
  if (!files) return null;
  const logger = new Logger('Tls');
  const reloader = new TlsReloader(files, {
    warn: (message) => logger.warn(`https: ${message}`),
    info: (message) => logger.log(`https: ${message}`),
  });
  return {
    options: {
      ...(reloader.options as HttpsOptions),
      requestCert: files.clientCaFile !== undefined,
      rejectUnauthorized: false,
    },
    attach(server) {
      reloader.attach(server);
      server.once('close', () => reloader.close());
    },
  };
}
