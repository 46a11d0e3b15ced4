import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RolloutControls1796656545884 implements MigrationInterface {
  name = 'RolloutControls1796656545884';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "device_groups" ADD "maintenance_windows" jsonb NOT NULL DEFAULT \'[]\'',
    );
    await queryRunner.query('ALTER TABLE "deployments" ADD "abort_from" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "deployments" ADD "start_at" TIMESTAMP WITH TIME ZONE');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "start_at"');
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "abort_from"');
    await queryRunner.query('ALTER TABLE "device_groups" DROP COLUMN "maintenance_windows"');
  }
}
