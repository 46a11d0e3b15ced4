import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device groups and devices: MQTT credentials (hashes only) and the last reported state. Ids and
 * group names use collation "C" so that listing order does not depend on the server's locale.
 */
export class Fleet1795923670173 implements MigrationInterface {
  name = 'Fleet1795923670173';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "device_groups" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text COLLATE "C" NOT NULL,
        "environment" text NOT NULL,
        "labels" jsonb NOT NULL DEFAULT '{}',
        "desired_seq" integer NOT NULL DEFAULT '0',
        "desired" jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_0a85eb3da91cda682e08b66ae77" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_84d2dfcb096662dfe895555e13" ON "device_groups" ("name")',
    );
    await queryRunner.query(
      `CREATE TABLE "devices" (
        "id" text COLLATE "C" NOT NULL,
        "name" text NOT NULL,
        "group_id" uuid,
        "labels" jsonb NOT NULL DEFAULT '{}',
        "credential_hash" character(64) NOT NULL,
        "mosquitto_hash" text NOT NULL,
        "credential_rotated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "online" boolean NOT NULL DEFAULT false,
        "last_seen_at" TIMESTAMP WITH TIME ZONE,
        "reported" jsonb,
        "agent_version" text,
        "desired" jsonb,
        "desired_seq" integer NOT NULL DEFAULT '0',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_b1514758245c12daf43486dd1f0" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_d430332b2d61167e34a67b0cec" ON "devices" ("group_id")',
    );
    await queryRunner.query(
      `ALTER TABLE "devices" ADD CONSTRAINT "FK_d430332b2d61167e34a67b0cec1"
        FOREIGN KEY ("group_id") REFERENCES "device_groups"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "devices" DROP CONSTRAINT "FK_d430332b2d61167e34a67b0cec1"',
    );
    await queryRunner.query('DROP INDEX "public"."IDX_d430332b2d61167e34a67b0cec"');
    await queryRunner.query('DROP TABLE "devices"');
    await queryRunner.query('DROP INDEX "public"."IDX_84d2dfcb096662dfe895555e13"');
    await queryRunner.query('DROP TABLE "device_groups"');
  }
}
