import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per hub instance (not prom-client's global one), so several hubs can share a process in tests. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'sentinel_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'sentinel_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  readonly modelPushes = new Counter({
    name: 'sentinel_model_pushes_total',
    help: 'Model pushes by result (created, or the error code that refused them)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly modelPushBytes = new Counter({
    name: 'sentinel_model_push_bytes_total',
    help: 'Bytes of accepted model pushes',
    registers: [this.registry],
  });

  /** Read at every scrape; the broker service points it at its live client table. */
  mqttClientCount: () => number = () => 0;

  readonly mqttClients: Gauge = new Gauge({
    name: 'sentinel_mqtt_clients',
    help: "MQTT clients connected to this hub's embedded broker",
    registers: [this.registry],
    collect: (): void => this.mqttClients.set(this.mqttClientCount()),
  });

  /** Read at every scrape; the live events service points it at its open streams. */
  eventStreamCount: () => number = () => 0;

  readonly eventStreams: Gauge = new Gauge({
    name: 'sentinel_event_streams',
    help: 'Open GET /api/v1/events streams (web consoles) on this hub',
    registers: [this.registry],
    collect: (): void => this.eventStreams.set(this.eventStreamCount()),
  });

  readonly mqttAuthFailures = new Counter({
    name: 'sentinel_mqtt_auth_failures_total',
    help: 'MQTT CONNECTs refused, by reason: bad_credentials (CONNACK 4), client_id and client_id_in_use (2), protocol_version (1), unavailable (3), will (5)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly mqttDenied = new Counter({
    name: 'sentinel_mqtt_denied_total',
    help: 'MQTT publishes and subscriptions refused (ACL, size limit, reserved topic) or dropped over the per-device telemetry rate limit (rate_limited)',
    labelNames: ['action', 'reason'] as const,
    registers: [this.registry],
  });

  readonly mqttDropped = new Counter({
    name: 'sentinel_mqtt_messages_dropped_total',
    help: 'MQTT messages from devices dropped as malformed or schema-invalid',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sentinel_' });
  }

  readonly deviceReports = new Counter({
    name: 'sentinel_device_reports_total',
    help: 'Device state reports this hub handled (valid ones; in a cluster, those of the devices connected to it)',
    registers: [this.registry],
  });

  readonly telemetryReceived = new Counter({
    name: 'sentinel_telemetry_received_total',
    help: 'Telemetry messages received from devices (valid ones)',
    registers: [this.registry],
  });

  readonly telemetryWritten = new Counter({
    name: 'sentinel_telemetry_written_total',
    help: 'Telemetry points written to the telemetry store',
    registers: [this.registry],
  });

  readonly telemetryDropped = new Counter({
    name: 'sentinel_telemetry_dropped_total',
    help: "Telemetry messages dropped: over the per-device rate limit (rate_limited, by the broker), invalid, the oldest when the buffer overflowed (overflow), refused by the store (rejected), or outside what the device may send: another group's deployment (foreign_deployment), a model not in that slot, or a shadow block's candidate not in the standby slot (not_serving), a device the hub does not know (unknown_device)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly telemetryBuffered = new Gauge({
    name: 'sentinel_telemetry_buffered',
    help: 'Telemetry points waiting to be written',
    registers: [this.registry],
  });

  readonly telemetryWriteFailures = new Counter({
    name: 'sentinel_telemetry_write_failures_total',
    help: 'Failed writes to the telemetry store (each retried with backoff)',
    registers: [this.registry],
  });
}
