import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ShadowPhase1796666523358 implements MigrationInterface {
  name = 'ShadowPhase1796666523358';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "deployments" ADD "shadow_since" TIMESTAMP WITH TIME ZONE',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "shadow_since"');
  }
}
