import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TelemetryLatencyHist1796608114910 implements MigrationInterface {
  name = 'TelemetryLatencyHist1796608114910';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Nullable, no default: a catalog change only, however many rows the table holds; the windows
    // written before it (and by agents that send no histogram) keep NULL.
    await queryRunner.query('ALTER TABLE "telemetry_points" ADD "latency_hist" jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "telemetry_points" DROP COLUMN "latency_hist"');
  }
}
