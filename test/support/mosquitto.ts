import { spawn, type ChildProcess } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A password-file line as `mosquitto_passwd` (2.x) writes it: PBKDF2-SHA512, 101 rounds, 12-byte salt. */
export function mosquittoPasswdLine(user: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export interface MosquittoServer {
  port: number;
  dir: string;
  /** Replaces the password and ACL files and makes Mosquitto reload them (SIGHUP). */
  reload(passwd: string, acl: string): Promise<void>;
  stop(): Promise<void>;
}

/** A real Mosquitto on a free loopback port, refusing anonymous clients, with our password and ACL files. */
export async function startMosquitto(passwd: string, acl: string): Promise<MosquittoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-mosquitto-'));
  chmodSync(dir, 0o755); // Mosquitto drops to its own user and must still read the files
  const port = await freePort();
  const write = (passwdText: string, aclText: string) => {
    writeFileSync(join(dir, 'passwd'), passwdText, { mode: 0o644 });
    writeFileSync(join(dir, 'acl'), aclText, { mode: 0o644 });
  };
  write(passwd, acl);
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'log_dest stderr',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitForPort(port, () => log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    dir,
    async reload(passwdText, aclText) {
      write(passwdText, aclText);
      child.kill('SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mosquitto did not listen on ${port}:\n${log()}`);
}
