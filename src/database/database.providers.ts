import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { createDataSource } from './data-source.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

/** Owns the database connection and, without DATABASE_URL, the embedded PGlite server behind it. */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded: EmbeddedPostgres | null = null;
  dataSource: DataSource | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async connect(): Promise<DataSource> {
    let url = this.config.DATABASE_URL;
    let poolSize = this.config.DATABASE_POOL_SIZE;
    if (!url) {
      // pglite-socket multiplexes every connection onto PGlite's single session, so two transactions on
      // two pooled connections interleave and corrupt each other (electric-sql/pglite#1046). One
      // connection serialises them; PGlite runs one query at a time anyway.
      poolSize = 1;
      this.embedded = await startEmbeddedPostgres(this.config.DATA_DIR, 2);
      url = this.embedded.url;
      this.logger.log(`embedded PGlite database in ${this.config.DATA_DIR}/db`);
    }
    try {
      this.dataSource = createDataSource(url, poolSize);
      await this.dataSource.initialize();
      const applied = await this.dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0)
        this.logger.log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      return this.dataSource;
    } catch (error) {
      await this.onApplicationShutdown();
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    this.dataSource = null;
    await this.embedded?.stop();
    this.embedded = null;
  }
}
