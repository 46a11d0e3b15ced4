import { join } from 'node:path';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { ArtifactStore } from './artifact-store.js';
import { FsArtifactStore } from './fs-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

export function createArtifactStore(config: AppConfig): ArtifactStore {
  if (config.S3_ENDPOINT) {
    return new S3ArtifactStore({
      endpoint: config.S3_ENDPOINT,
      accessKey: config.S3_ACCESS_KEY!,
      secretKey: config.S3_SECRET_KEY!,
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
    });
  }
  return new FsArtifactStore({ root: join(config.DATA_DIR, 'artifacts') });
}

@Injectable()
class ArtifactStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(ARTIFACT_STORE) private readonly store: ArtifactStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: ARTIFACT_STORE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const store = createArtifactStore(config);
        await store.init();
        return store;
      },
    },
    ArtifactStoreCloser,
  ],
  exports: [ARTIFACT_STORE],
})
export class ArtifactsModule {}
