import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AliasesAndGates1796653661988 implements MigrationInterface {
  name = 'AliasesAndGates1796653661988';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "model_aliases" ("name" text NOT NULL, "alias" text NOT NULL, "model_id" uuid NOT NULL, "moved_by" text NOT NULL, "moved_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_ec4c39dacf8d344d9a58712ea35" PRIMARY KEY ("name", "alias"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_843c2cb6e9239cc3891eb3b0c3" ON "model_aliases"  ("model_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "model_alias_moves" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "alias" text NOT NULL, "from_version" text, "to_version" text, "to_model_id" uuid, "actor" text NOT NULL, "reason" text, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f64a3f694430de9592e4d00eb7c" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_499b775a8b16a620bd5169dd4b" ON "model_alias_moves"  ("name", "alias", "at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "environment_gates" ("environment" text NOT NULL, "required_stage" "public"."model_stage", "require_success_in" text, "updated_by" text NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_554baa3df871b30226d315fad81" PRIMARY KEY ("environment"))',
    );
    await queryRunner.query(
      'ALTER TABLE "model_aliases" ADD CONSTRAINT "FK_843c2cb6e9239cc3891eb3b0c31" FOREIGN KEY ("model_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "model_aliases" DROP CONSTRAINT "FK_843c2cb6e9239cc3891eb3b0c31"',
    );
    await queryRunner.query('DROP TABLE "environment_gates"');
    await queryRunner.query('DROP INDEX "public"."IDX_499b775a8b16a620bd5169dd4b"');
    await queryRunner.query('DROP TABLE "model_alias_moves"');
    await queryRunner.query('DROP INDEX "public"."IDX_843c2cb6e9239cc3891eb3b0c3"');
    await queryRunner.query('DROP TABLE "model_aliases"');
  }
}
