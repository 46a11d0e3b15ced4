import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RolloutRate1796665092987 implements MigrationInterface {
  name = 'RolloutRate1796665092987';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployments" ADD "admission" jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "admission"');
  }
}
