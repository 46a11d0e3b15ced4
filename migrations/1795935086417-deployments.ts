import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Deployments1795935086417 implements MigrationInterface {
  name = 'Deployments1795935086417';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "deployments" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "model_id" uuid NOT NULL, "environment" text NOT NULL, "deployment_type" text NOT NULL, "target" text NOT NULL, "status" text NOT NULL, "status_reason" text, "paused_from" text, "step_index" integer NOT NULL DEFAULT \'0\', "step_started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "cohort_salt" text NOT NULL, "policy" jsonb NOT NULL, "rules" jsonb NOT NULL DEFAULT \'{}\', "auto_rollback" boolean NOT NULL DEFAULT true, "superseded_by" uuid, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_1e5627acb3c950deb83fe98fc48" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_38192398a94dfb55eb11527d01" ON "deployments"  ("status") ',
    );
    await queryRunner.query(
      'CREATE TABLE "deployment_groups" ("deployment_id" uuid NOT NULL, "group_id" uuid NOT NULL, "group_name" text NOT NULL, "previous_model_id" uuid, "active" boolean NOT NULL, CONSTRAINT "PK_f436e3ea02884c0c6bae50e251c" PRIMARY KEY ("deployment_id", "group_id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "deployment_groups_one_active" ON "deployment_groups"  ("group_id") WHERE active',
    );
    await queryRunner.query(
      'CREATE TABLE "deployment_devices" ("deployment_id" uuid NOT NULL, "device_id" text COLLATE "C" NOT NULL, "phase" text NOT NULL, "reason" text, "detail" text, "bytes" bigint, "total_bytes" bigint, "in_cohort" boolean, "attempts" integer NOT NULL DEFAULT \'0\', "phase_since" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_b215d76067643c2446be6ec3b71" PRIMARY KEY ("deployment_id", "device_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "deployment_events" ("id" BIGSERIAL NOT NULL, "deployment_id" uuid NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" text NOT NULL, "type" text NOT NULL, "from_status" text, "to_status" text, "device_id" text, "reason" text, "figures" jsonb NOT NULL DEFAULT \'{}\', CONSTRAINT "PK_9744c8ac10b188e63c7c0ff50d0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_9a81bad0a627146704c6034f84" ON "deployment_events"  ("deployment_id", "id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "deployments" ADD CONSTRAINT "FK_bd5203f2814cb186dc9561d5f4a" FOREIGN KEY ("model_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_groups" ADD CONSTRAINT "FK_4bdbc8a7799ca79feed1e0210de" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_groups" ADD CONSTRAINT "FK_9916cb4f7f18bf8ce51d34605a1" FOREIGN KEY ("group_id") REFERENCES "device_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_devices" ADD CONSTRAINT "FK_eef139dafa24d04def209b6178c" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_events" ADD CONSTRAINT "FK_bf8abf6deb3c7a2cb7e675dd3b3" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "deployment_events" DROP CONSTRAINT "FK_bf8abf6deb3c7a2cb7e675dd3b3"',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_devices" DROP CONSTRAINT "FK_eef139dafa24d04def209b6178c"',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_groups" DROP CONSTRAINT "FK_9916cb4f7f18bf8ce51d34605a1"',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_groups" DROP CONSTRAINT "FK_4bdbc8a7799ca79feed1e0210de"',
    );
    await queryRunner.query(
      'ALTER TABLE "deployments" DROP CONSTRAINT "FK_bd5203f2814cb186dc9561d5f4a"',
    );
    await queryRunner.query('DROP INDEX "public"."IDX_9a81bad0a627146704c6034f84"');
    await queryRunner.query('DROP TABLE "deployment_events"');
    await queryRunner.query('DROP TABLE "deployment_devices"');
    await queryRunner.query('DROP INDEX "public"."deployment_groups_one_active"');
    await queryRunner.query('DROP TABLE "deployment_groups"');
    await queryRunner.query('DROP INDEX "public"."IDX_38192398a94dfb55eb11527d01"');
    await queryRunner.query('DROP TABLE "deployments"');
  }
}
