import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The slice of s3rver 3.7's API used here (the package ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface S3Request {
  method: string;
  url: string;
  status: number;
}

export interface TestS3Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** s3rver's data folder (objects and multipart parts live under it). */
  directory: string;
  /** Every request answered so far, in order. */
  requests(): readonly S3Request[];
  close(): Promise<void>;
}

export interface StartS3ServerOptions {
  bucket?: string;
  /** Create the bucket before the server starts; otherwise the code under test must. */
  createBucket?: boolean;
}

/** s3rver on 127.0.0.1 with a free port and a fresh temp folder; credentials S3RVER/S3RVER. */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'artifacts';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: options.createBucket ? [{ name: bucket }] : [],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const httpServer = server.httpServer;
  if (httpServer === undefined) throw new Error('s3rver did not expose its http server');

  const log: S3Request[] = [];
  httpServer.prependListener('request', (req, res) => {
    res.once('finish', () =>
      log.push({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode }),
    );
  });

  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket,
    directory,
    requests: () => log,
    async close() {
      if (closed) return;
      closed = true;
      const closing = server.close();
      httpServer.closeAllConnections();
      await closing;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
