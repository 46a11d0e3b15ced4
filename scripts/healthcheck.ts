// The container's health probe: GET /health on the hub's own port, over HTTPS when the hub has a
// certificate (TLS_CERT_FILE). Exit 0 when the hub answers 200, else 1.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const port = Number(process.env.PORT ?? 8070);
const request = process.env.TLS_CERT_FILE ? httpsRequest : httpRequest;
// 127.0.0.1 (the hub binds IPv4; `localhost` may be ::1). The certificate names the public host,
// not the loopback address, so it is not checked: the probe sends nothing secret.
const req = request(
  { host: '127.0.0.1', port, path: '/health', timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
