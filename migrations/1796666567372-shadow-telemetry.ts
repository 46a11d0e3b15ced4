import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ShadowTelemetry1796666567372 implements MigrationInterface {
  name = 'ShadowTelemetry1796666567372';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_model_id" text');
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_model_version" text');
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_comparison" text');
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_samples" integer');
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_dropped" integer');
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "shadow_errors" integer');
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" ADD "shadow_latency_p50" double precision',
    );
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" ADD "shadow_latency_p95" double precision',
    );
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" ADD "shadow_active_latency_p50" double precision',
    );
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" ADD "shadow_active_latency_p95" double precision',
    );
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" ADD "shadow_agreement" double precision',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_agreement"');
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" DROP COLUMN "shadow_active_latency_p95"',
    );
    await queryRunner.query(
      'ALTER TABLE "telemetry_points" DROP COLUMN "shadow_active_latency_p50"',
    );
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_latency_p95"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_latency_p50"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_errors"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_dropped"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_samples"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_comparison"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_model_version"');
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "shadow_model_id"');
  }
}
