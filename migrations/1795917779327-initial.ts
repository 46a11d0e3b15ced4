import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795917779327 implements MigrationInterface {
  name = 'Initial1795917779327';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE TYPE \"public\".\"api_token_role\" AS ENUM('admin', 'operator', 'viewer')",
    );
    await queryRunner.query(
      'CREATE TABLE "api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "role" "public"."api_token_role" NOT NULL, "token_hash" character(64) NOT NULL, "token_prefix" text NOT NULL, "created_by" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_bbd687a104e1921e6702c6e3aa" ON "api_tokens"  ("token_hash") ',
    );
    await queryRunner.query(
      'CREATE TABLE "audit_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" text NOT NULL, "action" text NOT NULL, "target_type" text NOT NULL, "target_id" text, "details" jsonb NOT NULL DEFAULT \'{}\'::jsonb, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_d5de0add56627328f0ce0aba9a" ON "audit_events"  ("target_type", "target_id") ',
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"model_stage\" AS ENUM('staging', 'production', 'archived')",
    );
    await queryRunner.query(
      'CREATE TABLE "model_versions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "version" text NOT NULL, "model_type" text NOT NULL, "framework" text NOT NULL, "stage" "public"."model_stage" NOT NULL, "sha256" character(64) NOT NULL, "size" bigint NOT NULL, "metadata" jsonb NOT NULL DEFAULT \'{}\'::jsonb, "onnx" jsonb NOT NULL, "tags" text array NOT NULL DEFAULT \'{}\'::text[], "parent_id" uuid, "signature_bundle" jsonb, "signature" jsonb, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_77c0256872dcc26394dba4b87ec" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_b5752ebcbf494cf95f6787bfb4" ON "model_versions"  ("sha256") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_adb0eb37130bbafc68ffbab605" ON "model_versions"  ("name", "version") ',
    );
    await queryRunner.query(
      'ALTER TABLE "model_versions" ADD CONSTRAINT "FK_d8748a6cf4eac41b41aab83a865" FOREIGN KEY ("parent_id") REFERENCES "model_versions"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "model_versions" DROP CONSTRAINT "FK_d8748a6cf4eac41b41aab83a865"',
    );
    await queryRunner.query('DROP INDEX "public"."IDX_adb0eb37130bbafc68ffbab605"');
    await queryRunner.query('DROP INDEX "public"."IDX_b5752ebcbf494cf95f6787bfb4"');
    await queryRunner.query('DROP TABLE "model_versions"');
    await queryRunner.query('DROP TYPE "public"."model_stage"');
    await queryRunner.query('DROP INDEX "public"."IDX_d5de0add56627328f0ce0aba9a"');
    await queryRunner.query('DROP TABLE "audit_events"');
    await queryRunner.query('DROP INDEX "public"."IDX_bbd687a104e1921e6702c6e3aa"');
    await queryRunner.query('DROP TABLE "api_tokens"');
    await queryRunner.query('DROP TYPE "public"."api_token_role"');
  }
}
