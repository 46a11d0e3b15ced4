import { Injectable } from '@nestjs/common';
import type { DesiredState } from '@sentinel/broker';
import type { DataSource, EntityManager } from 'typeorm';

type Db = EntityManager | DataSource;

/** A group (by name) or a device (by id), for one named model. */
export interface NamedKey {
  kind: 'group' | 'device';
  id: string;
  name: string;
}

/** Joins a named row to its group (by name) or device (by id). */
const OWNER = {
  group: {
    join: 'JOIN device_groups o ON o.id = n.group_id',
    key: 'o.name',
    select: 'SELECT id FROM device_groups WHERE name = $1',
    column: 'group_id',
  },
  device: {
    join: 'JOIN devices o ON o.id = n.device_id',
    key: 'o.id',
    select: 'SELECT id FROM devices WHERE id = $1',
    column: 'device_id',
  },
} as const;

/**
 * The SQL of named_desired_states (named-desired-state.entity.ts), for DesiredStateService alone:
 * the desired states of named models (docs/protocol.md 6.6), one row per group or device and name.
 */
@Injectable()
export class NamedDesiredStore {
  /** The next seq of the state (the row is made on first use); null when the group or device is unknown. */
  async bump(m: EntityManager, key: NamedKey): Promise<number | null> {
    const owner = OWNER[key.kind];
    // Wrapped in a SELECT: TypeORM hands back [rows, count] for a bare INSERT ... RETURNING.
    const rows: { seq: number }[] = await m.query(
      `WITH owner AS (${owner.select}),
            bumped AS (
              INSERT INTO named_desired_states (${owner.column}, name, seq)
              SELECT id, $2, 1 FROM owner
              ON CONFLICT (${owner.column}, name) DO UPDATE SET seq = named_desired_states.seq + 1
              RETURNING seq)
       SELECT seq FROM bumped`,
      [key.id, key.name],
    );
    return rows.length === 0 ? null : Number(rows[0].seq);
  }

  async write(m: EntityManager, key: NamedKey, payload: string | null): Promise<void> {
    const owner = OWNER[key.kind];
    await m.query(
      `UPDATE named_desired_states SET desired = $3
        WHERE name = $2 AND ${owner.column} = (${owner.select})`,
      [key.id, key.name, payload],
    );
  }

  /** Clears a stored state (desired null, seq kept); whether there was one. */
  async clear(db: Db, key: NamedKey): Promise<boolean> {
    const owner = OWNER[key.kind];
    const rows: unknown[] = await db.query(
      `WITH cleared AS (
         UPDATE named_desired_states SET desired = NULL
          WHERE name = $2 AND desired IS NOT NULL AND ${owner.column} = (${owner.select})
         RETURNING id)
       SELECT id FROM cleared`,
      [key.id, key.name],
    );
    return rows.length > 0;
  }

  /** The state and its seq; undefined when the group or device is unknown. */
  async read(
    db: Db,
    key: NamedKey,
  ): Promise<{ desired: DesiredState | null; seq: number } | undefined> {
    const owner = OWNER[key.kind];
    const rows: { desired: DesiredState | null; seq: number | null }[] = await db.query(
      `SELECT n.desired, n.seq FROM (${owner.select}) o
         LEFT JOIN named_desired_states n ON n.${owner.column} = o.id AND n.name = $2`,
      [key.id, key.name],
    );
    if (rows.length === 0) return undefined;
    return { desired: rows[0].desired, seq: Number(rows[0].seq ?? 0) };
  }

  /** Every stored state, for the re-publication at start. */
  all(
    db: Db,
  ): Promise<{ kind: 'group' | 'device'; id: string; name: string; desired: DesiredState }[]> {
    return db.query(
      `SELECT 'group' AS kind, g.name AS id, n.name, n.desired
         FROM named_desired_states n JOIN device_groups g ON g.id = n.group_id WHERE n.desired IS NOT NULL
       UNION ALL
       SELECT 'device' AS kind, n.device_id AS id, n.name, n.desired
         FROM named_desired_states n WHERE n.device_id IS NOT NULL AND n.desired IS NOT NULL`,
    );
  }

  /** The names a group or device has a stored state for (what to clear when it is deleted). */
  async names(m: EntityManager, kind: 'group' | 'device', id: string): Promise<string[]> {
    const owner = OWNER[kind];
    const rows: { name: string }[] = await m.query(
      `SELECT n.name FROM named_desired_states n ${owner.join}
        WHERE ${owner.key} = $1 AND n.desired IS NOT NULL ORDER BY n.name`,
      [id],
    );
    return rows.map((r) => r.name);
  }

  /** A state naming the model (to serve, or as its fallback), if any: who, which name, which role. */
  async use(
    m: EntityManager,
    modelId: string,
  ): Promise<{ kind: string; key: string; name: string; role: string } | undefined> {
    const rows: { kind: string; key: string; name: string; role: string }[] = await m.query(
      `SELECT CASE WHEN n.group_id IS NULL THEN 'device' ELSE 'group' END AS kind,
              COALESCE(g.name, n.device_id) AS key, n.name,
              CASE WHEN n.desired->'model'->>'id' = $1 THEN 'model' ELSE 'previous' END AS role
         FROM named_desired_states n LEFT JOIN device_groups g ON g.id = n.group_id
        WHERE n.desired->'model'->>'id' = $1 OR n.desired->'previous'->>'id' = $1 LIMIT 1`,
      [modelId],
    );
    return rows[0];
  }
}
