import { Inject, Injectable } from '@nestjs/common';
import type { ArtifactStore, StoredArtifact } from '../artifacts/artifact-store.js';
import { ARTIFACT_STORE } from '../artifacts/artifacts.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import {
  parseTrustedKeys,
  SignatureError,
  verifyModelSignature,
  type TrustedKey,
  type VerifiedSignature,
} from '@sentinel/broker/signing';

@Injectable()
export class SigningService {
  private readonly trustedKeys: TrustedKey[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {
    this.trustedKeys = config.TRUSTED_KEYS ? parseTrustedKeys(config.TRUSTED_KEYS) : [];
  }

  get signaturesRequired(): boolean {
    return this.config.REQUIRE_SIGNED_MODELS;
  }

  /** Verifies a pushed Sigstore bundle against TRUSTED_KEYS over the stored bytes of the artifact. */
  async verify(bundle: Buffer, artifact: StoredArtifact): Promise<VerifiedSignature> {
    if (this.trustedKeys.length === 0) {
      throw new DomainError(
        'INVALID_SIGNATURE',
        'invalid signature: no trusted keys configured on the hub (TRUSTED_KEYS)',
      );
    }
    try {
      return await verifyModelSignature(
        bundle,
        { ...artifact, open: () => this.store.read(artifact.sha256) },
        this.trustedKeys,
      );
    } catch (error) {
      if (error instanceof SignatureError)
        throw new DomainError('INVALID_SIGNATURE', `invalid signature: ${error.message}`);
      throw error;
    }
  }
}
