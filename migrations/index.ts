import { Initial1795917779327 } from './1795917779327-initial.js';
import { Fleet1795923670173 } from './1795923670173-fleet.js';
import { Deployments1795935086417 } from './1795935086417-deployments.js';
import { TelemetryAndHealth1795936523520 } from './1795936523520-telemetry-and-health.js';
import { RulesHistory1796606813687 } from './1796606813687-rules-history.js';
import { TelemetryLatencyHist1796608114910 } from './1796608114910-telemetry-latency-hist.js';
import { ModelFormats1796620156429 } from './1796620156429-model-formats.js';
import { AliasesAndGates1796653661988 } from './1796653661988-aliases-and-gates.js';
import { RolloutControls1796656545884 } from './1796656545884-rollout-controls.js';
import { DeviceCapabilities1796664955905 } from './1796664955905-device-capabilities.js';
import { RolloutRate1796665092987 } from './1796665092987-rollout-rate.js';
import { ShadowPhase1796666523358 } from './1796666523358-shadow-phase.js';
import { ShadowTelemetry1796666567372 } from './1796666567372-shadow-telemetry.js';
import { NamedModels1796677835121 } from './1796677835121-named-models.js';
import { DevicesFillfactor1796692350544 } from './1796692350544-devices-fillfactor.js';

/** In order of application. Committed migrations are never rewritten; add a new one instead. */
export const MIGRATIONS = [
  Initial1795917779327,
  Fleet1795923670173,
  Deployments1795935086417,
  TelemetryAndHealth1795936523520,
  RulesHistory1796606813687,
  TelemetryLatencyHist1796608114910,
  ModelFormats1796620156429,
  AliasesAndGates1796653661988,
  RolloutControls1796656545884,
  DeviceCapabilities1796664955905,
  RolloutRate1796665092987,
  ShadowPhase1796666523358,
  ShadowTelemetry1796666567372,
  NamedModels1796677835121,
  DevicesFillfactor1796692350544,
];
