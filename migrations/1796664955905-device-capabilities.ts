import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeviceCapabilities1796664955905 implements MigrationInterface {
  name = 'DeviceCapabilities1796664955905';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "devices" ADD "capabilities" jsonb');
    await queryRunner.query('ALTER TABLE "deployment_devices" ADD "held_seq" integer');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployment_devices" DROP COLUMN "held_seq"');
    await queryRunner.query('ALTER TABLE "devices" DROP COLUMN "capabilities"');
  }
}
