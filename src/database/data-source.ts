import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';

export function createDataSource(url: string, poolSize: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    // gen_random_uuid() lives in pgcrypto on Postgres < 13 and is built in after; PGlite lacks uuid-ossp.
    uuidExtension: 'pgcrypto',
    extra: { max: poolSize },
  });
}
