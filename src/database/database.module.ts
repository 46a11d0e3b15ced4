import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseLifecycle } from './database.providers.js';

@Global()
@Module({
  providers: [
    DatabaseLifecycle,
    {
      provide: DataSource,
      inject: [DatabaseLifecycle],
      useFactory: (lifecycle: DatabaseLifecycle) => lifecycle.connect(),
    },
  ],
  exports: [DataSource],
})
export class DatabaseModule {}
