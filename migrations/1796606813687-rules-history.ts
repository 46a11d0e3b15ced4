import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RulesHistory1796606813687 implements MigrationInterface {
  name = 'RulesHistory1796606813687';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "deployment_health" ("id" BIGSERIAL NOT NULL, "deployment_id" uuid NOT NULL, "evaluated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "step_index" integer NOT NULL, "stage" text NOT NULL, "verdict" text NOT NULL, "action" text NOT NULL, "report" jsonb NOT NULL, CONSTRAINT "PK_e12a266c7ace6adf4f6f227a209" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_9456259f749682d4e88c6b49b2" ON "deployment_health"  ("deployment_id", "id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "deployment_baselines" ("deployment_id" uuid NOT NULL, "step_index" integer NOT NULL, "window_from" TIMESTAMP WITH TIME ZONE NOT NULL, "window_to" TIMESTAMP WITH TIME ZONE NOT NULL, "figures" jsonb, CONSTRAINT "PK_fcd7b0d7bf775e5493d60fe245d" PRIMARY KEY ("deployment_id", "step_index"))',
    );
    await queryRunner.query('ALTER TABLE "deployments" ADD "verdict" text');
    await queryRunner.query('ALTER TABLE "deployments" ADD "verdict_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query(
      'ALTER TABLE "deployments" ADD "observing_since" TIMESTAMP WITH TIME ZONE',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_health" ADD CONSTRAINT "FK_0d5733ca27d2a09478c60644583" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_baselines" ADD CONSTRAINT "FK_eb1cdb8dad7c6ac0b2ded56d751" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    // The latest evaluation each deployment kept in its health column becomes its first history row.
    await queryRunner.query(
      `INSERT INTO "deployment_health" ("deployment_id", "evaluated_at", "step_index", "stage", "verdict", "action", "report")
       SELECT "id", ("health"->>'evaluated_at')::timestamptz, "step_index", 'rolling_out', "health"->>'verdict',
              COALESCE("health"->>'action', 'none'), "health"
         FROM "deployments" WHERE "health"->>'verdict' IS NOT NULL AND "health"->>'evaluated_at' IS NOT NULL`,
    );
    await queryRunner.query(
      `UPDATE "deployments" SET "verdict" = "health"->>'verdict', "verdict_at" = ("health"->>'evaluated_at')::timestamptz
        WHERE "health"->>'verdict' IS NOT NULL AND "health"->>'evaluated_at' IS NOT NULL`,
    );
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "health"');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "deployment_baselines" DROP CONSTRAINT "FK_eb1cdb8dad7c6ac0b2ded56d751"',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_health" DROP CONSTRAINT "FK_0d5733ca27d2a09478c60644583"',
    );
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "observing_since"');
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "verdict_at"');
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "verdict"');
    await queryRunner.query('ALTER TABLE "deployments" ADD "health" jsonb');
    await queryRunner.query(
      `UPDATE "deployments" d SET "health" = h."report" FROM (
         SELECT DISTINCT ON ("deployment_id") "deployment_id", "report" FROM "deployment_health"
          ORDER BY "deployment_id", "id" DESC) h
        WHERE h."deployment_id" = d."id"`,
    );
    await queryRunner.query('DROP TABLE "deployment_baselines"');
    await queryRunner.query('DROP INDEX "public"."IDX_9456259f749682d4e88c6b49b2"');
    await queryRunner.query('DROP TABLE "deployment_health"');
  }
}
