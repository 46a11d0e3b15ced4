// Writes migrations/<timestamp>-<name>.ts from the difference between the entities and the database.
// Usage: npm run migration:generate -- <name>   (DATABASE_URL, or a scratch embedded DATA_DIR)
// Read and edit the result by hand before committing; then list it in migrations/index.ts.
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config/app-config.js';
import { DatabaseLifecycle } from '../src/database/database.providers.js';
import { schemaDrift } from '../src/database/schema-drift.js';

const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: generate-migration <kebab-case-name>');
  process.exit(2);
}
const lifecycle = new DatabaseLifecycle(loadConfig());
try {
  const drift = await schemaDrift(await lifecycle.connect());
  if (drift.up.length === 0) {
    console.log('entities and migrations are in step: nothing to generate');
  } else {
    const stamp = Date.now();
    const className =
      name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()) + stamp;
    const lines = (queries: string[]) =>
      queries.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
    const file = `migrations/${stamp}-${name}.ts`;
    writeFileSync(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${lines(drift.up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${lines(drift.down)}
  }
}
`,
    );
    console.log(`wrote ${file}`);
  }
} finally {
  await lifecycle.onApplicationShutdown();
}
