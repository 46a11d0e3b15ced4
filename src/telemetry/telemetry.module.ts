import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BrokerModule } from '../broker/broker.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { CachedTelemetryStore } from './cached-telemetry-store.js';
import { InfluxTelemetryStore } from './influx-telemetry-store.js';
import { SqlTelemetryStore } from './sql-telemetry-store.js';
import { TELEMETRY_STORE, type TelemetryStore } from './telemetry-store.js';
import { TelemetryScope } from './telemetry-scope.js';
import { TelemetryController } from './telemetry.controller.js';
import { TelemetryService } from './telemetry.service.js';

/**
 * How far back the rules' windows are answered from memory: three default windows (window_s 60),
 * about 18 MB at 10,000 devices with a window every 10 s.
 */
const RECENT_TELEMETRY_SPAN_MS = 180_000;

/** Device telemetry into InfluxDB (INFLUX_URL) or, embedded, a table of the SQL database. */
@Module({
  imports: [BrokerModule, FleetModule],
  controllers: [TelemetryController],
  providers: [
    {
      provide: TELEMETRY_STORE,
      inject: [APP_CONFIG, DataSource],
      useFactory: (config: AppConfig, dataSource: DataSource): TelemetryStore =>
        new CachedTelemetryStore(
          config.INFLUX_URL
            ? new InfluxTelemetryStore({
                url: config.INFLUX_URL,
                database: config.INFLUX_DB,
                username: config.INFLUX_USER,
                password: config.INFLUX_PASSWORD,
                retentionDays: config.TELEMETRY_RETENTION_DAYS,
              })
            : new SqlTelemetryStore(dataSource, config.TELEMETRY_RETENTION_DAYS),
          { spanMs: RECENT_TELEMETRY_SPAN_MS, since: Date.now() },
        ),
    },
    TelemetryScope,
    TelemetryService,
  ],
  exports: [TELEMETRY_STORE, TelemetryService],
})
export class TelemetryModule {}
