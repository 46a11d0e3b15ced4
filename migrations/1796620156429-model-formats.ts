import type { MigrationInterface, QueryRunner } from 'typeorm';
import { versionSortKey } from '../src/registry/domain/versions.js';

export class ModelFormats1796620156429 implements MigrationInterface {
  name = 'ModelFormats1796620156429';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Every version stored so far is an ONNX model: the default records that.
    await queryRunner.query(
      'ALTER TABLE "model_versions" ADD "format" text NOT NULL DEFAULT \'onnx\'',
    );
    await queryRunner.query('ALTER TABLE "model_versions" ALTER COLUMN "onnx" DROP NOT NULL');
    // The sort key is computed in code (versionSortKey); fill it for the versions already there.
    // A later change of the key's encoding needs a migration that recomputes every row.
    await queryRunner.query('ALTER TABLE "model_versions" ADD "version_key" text COLLATE "C"');
    const rows: { id: string; version: string }[] = await queryRunner.query(
      'SELECT id, version FROM "model_versions"',
    );
    for (const row of rows) {
      await queryRunner.query('UPDATE "model_versions" SET "version_key" = $1 WHERE id = $2', [
        versionSortKey(row.version),
        row.id,
      ]);
    }
    await queryRunner.query('ALTER TABLE "model_versions" ALTER COLUMN "version_key" SET NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails while non-ONNX versions (onnx IS NULL) exist: delete or keep them before going back.
    await queryRunner.query('ALTER TABLE "model_versions" DROP COLUMN "version_key"');
    await queryRunner.query('ALTER TABLE "model_versions" ALTER COLUMN "onnx" SET NOT NULL');
    await queryRunner.query('ALTER TABLE "model_versions" DROP COLUMN "format"');
  }
}
