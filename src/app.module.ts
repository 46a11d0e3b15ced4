import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from './common/logging/pino-logger.module.js';
import { ArtifactsModule } from './artifacts/artifacts.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { BrokerModule } from './broker/broker.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { DomainErrorFilter } from './common/domain-error.filter.js';
import { requestLogOptions } from './common/request-log.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { DatabaseModule } from './database/database.module.js';
import { DeploymentsModule } from './deployments/deployments.module.js';
import { EventsModule } from './events/events.module.js';
import { FleetModule } from './fleet/fleet.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RegistryModule } from './registry/registry.module.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';
import { RulesModule } from './rules/rules.module.js';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: requestLogOptions(config.LOG_LEVEL) }),
        DatabaseModule,
        ClusterModule,
        AuditModule,
        ArtifactsModule,
        MetricsModule,
        AuthModule,
        RegistryModule,
        FleetModule,
        BrokerModule,
        DeploymentsModule,
        TelemetryModule,
        RulesModule,
        EventsModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        // Here rather than in AuthModule: the guard checks tokens (AuthModule) and device
        // credentials (FleetModule's DEVICE_AUTHENTICATOR); only the root sees both.
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
