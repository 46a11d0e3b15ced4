import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TelemetryAndHealth1795936523520 implements MigrationInterface {
  name = 'TelemetryAndHealth1795936523520';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "telemetry_points" ("id" BIGSERIAL NOT NULL, "time" TIMESTAMP WITH TIME ZONE NOT NULL, "device" text NOT NULL, "group_name" text NOT NULL, "environment" text NOT NULL, "deployment" text NOT NULL, "model_id" text NOT NULL, "model_version" text NOT NULL, "slot" text NOT NULL, "frames" integer NOT NULL, "fps" double precision NOT NULL, "latency_p50" double precision NOT NULL, "latency_p95" double precision NOT NULL, "latency_max" double precision NOT NULL, "memory_mb" double precision NOT NULL, "errors" integer NOT NULL, "window_s" double precision NOT NULL, "map" double precision, CONSTRAINT "PK_6e6c64dbf13e26981c4fda7243e" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_7465560eb41bc7f2f6553993a1" ON "telemetry_points"  ("time") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_e8546fb444fb133ae8c6740551" ON "telemetry_points"  ("deployment", "time") ',
    );
    await queryRunner.query('ALTER TABLE "deployments" ADD "health" jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "health"');
    await queryRunner.query('DROP INDEX "public"."IDX_e8546fb444fb133ae8c6740551"');
    await queryRunner.query('DROP INDEX "public"."IDX_7465560eb41bc7f2f6553993a1"');
    await queryRunner.query('DROP TABLE "telemetry_points"');
  }
}
