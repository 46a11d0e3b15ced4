import { Controller, Get, Inject, Logger, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DomainError, validationFailed } from '../common/domain-error.js';
import { parseTelemetryRange } from './domain/telemetry-query.js';
import { TelemetryQueryDto, TelemetryResponseDto } from './dto/telemetry-query.dto.js';
import { TELEMETRY_STORE, type TelemetryStore } from './telemetry-store.js';

@ApiTags('telemetry')
@Controller('api/v1/telemetry')
export class TelemetryController {
  private readonly logger = new Logger('Telemetry');

  constructor(@Inject(TELEMETRY_STORE) private readonly store: TelemetryStore) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Telemetry over time: series per model version (or per device) in time buckets',
    description:
      'Answered by the telemetry store in use (the SQL table, or InfluxDB with INFLUX_URL). Per bucket: ' +
      'means over its telemetry windows of fps, latency_p50, latency_p95, memory_mb and map (null when no ' +
      'window had one), sums of frames and errors, and the windows counted; empty buckets are left out. ' +
      'The filters (device, model_version, deployment, group) combine; a bad value is 400 naming it.',
  })
  @ApiOkResponse({ type: TelemetryResponseDto })
  @ApiErrors(400, 503)
  async query(@Query() query: TelemetryQueryDto): Promise<TelemetryResponseDto> {
    const range = parseTelemetryRange(query, new Date());
    if (!range.ok) throw validationFailed(range.message);
    const series = await this.store
      .querySeries({
        ...range.value,
        device: query.device,
        modelVersion: query.model_version,
        deployment: query.deployment,
        group: query.group,
      })
      .catch((error: Error) => {
        // InfluxDB down, say: the hub's condition, not the request's.
        this.logger.error(`telemetry query failed: ${error.message}`);
        throw new DomainError(
          'STORAGE_UNAVAILABLE',
          `the telemetry store (${this.store.kind}) could not answer; see the hub log`,
        );
      });
    return TelemetryResponseDto.from(range.value, series);
  }
}
