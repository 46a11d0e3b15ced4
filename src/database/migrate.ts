// `npm run migration:run`: applies pending migrations to DATABASE_URL (or the embedded database).
import { loadConfig } from '../config/app-config.js';
import { DatabaseLifecycle } from './database.providers.js';

const lifecycle = new DatabaseLifecycle(loadConfig());
try {
  const dataSource = await lifecycle.connect();
  const pending = await dataSource.showMigrations();
  console.log(pending ? 'migrations still pending' : 'database schema is up to date');
} finally {
  await lifecycle.onApplicationShutdown();
}
