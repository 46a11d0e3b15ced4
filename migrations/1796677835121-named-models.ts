import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NamedModels1796677835121 implements MigrationInterface {
  name = 'NamedModels1796677835121';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."deployment_groups_one_active"');
    await queryRunner.query(
      'CREATE TABLE "named_desired_states" ("id" BIGSERIAL NOT NULL, "group_id" uuid, "device_id" text COLLATE "C", "name" text NOT NULL, "seq" integer NOT NULL DEFAULT \'0\', "desired" jsonb, CONSTRAINT "PK_b905ebcf10a67f6e6af38e1c0f5" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "named_desired_states_device" ON "named_desired_states"  ("device_id", "name") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "named_desired_states_group" ON "named_desired_states"  ("group_id", "name") ',
    );
    await queryRunner.query(
      'ALTER TABLE "deployments" ADD "serve_as" text NOT NULL DEFAULT \'default\'',
    );
    await queryRunner.query(
      'ALTER TABLE "deployment_groups" ADD "serve_as" text NOT NULL DEFAULT \'default\'',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "deployment_groups_one_active" ON "deployment_groups"  ("group_id", "serve_as") WHERE active',
    );
    await queryRunner.query(
      'ALTER TABLE "named_desired_states" ADD CONSTRAINT "FK_798ac6627bc796e0cad46a69fcb" FOREIGN KEY ("group_id") REFERENCES "device_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "named_desired_states" ADD CONSTRAINT "FK_a25bb311dcb957876a577a664d5" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "named_desired_states" DROP CONSTRAINT "FK_a25bb311dcb957876a577a664d5"',
    );
    await queryRunner.query(
      'ALTER TABLE "named_desired_states" DROP CONSTRAINT "FK_798ac6627bc796e0cad46a69fcb"',
    );
    await queryRunner.query('DROP INDEX "public"."deployment_groups_one_active"');
    await queryRunner.query('ALTER TABLE "deployment_groups" DROP COLUMN "serve_as"');
    await queryRunner.query('ALTER TABLE "deployments" DROP COLUMN "serve_as"');
    await queryRunner.query('DROP INDEX "public"."named_desired_states_group"');
    await queryRunner.query('DROP INDEX "public"."named_desired_states_device"');
    await queryRunner.query('DROP TABLE "named_desired_states"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "deployment_groups_one_active" ON "deployment_groups" USING btree ("group_id") WHERE active',
    );
  }
}
