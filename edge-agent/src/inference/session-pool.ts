import ort from 'onnxruntime-node';
import { AgentError } from '../errors.js';
import { ortSeverity, type OrtLogLevel } from './ort-log.js';
import { ServingGauge } from './serving-gauge.js';

export type Session = ort.InferenceSession;

/**
 * Why a session could not be created: `incompatible` when onnxruntime refuses the model's opset
 * (newer than it loads: ValidateOpsetForDomain, "support for domain ai.onnx is till opset N"),
 * `load_error` otherwise.
 */
export function loadError(error: unknown): AgentError {
  const message = (error as Error).message;
  const opset = /Opset (\d+) is under development[\s\S]*is till opset (\d+)/.exec(message);
  if (/ValidateOpsetForDomain/.test(message) || opset) {
    const detail = opset
      ? `opset ${opset[1]} > device max ${opset[2]} (onnxruntime ${ort.env.versions?.node ?? 'unknown'})`
      : `onnxruntime ${ort.env.versions?.node ?? 'unknown'} does not load the model's opset`;
    return new AgentError('incompatible', `${detail}: ${message}`, { cause: error });
  }
  return new AgentError('load_error', `onnxruntime cannot load the model: ${message}`, {
    cause: error,
  });
}

/**
 * onnxruntime sessions by sha256, reference-counted: one agent holds at most two (its slots), and
 * the fleet simulator's agents share one per model. A failed load rejects every waiter.
 */
export class SessionPool {
  private readonly entries = new Map<string, { session: Promise<Session>; refs: number }>();
  /** The served inferences on this pool's sessions (one thread's): shadow runs wait for it. */
  readonly serving = new ServingGauge();

  constructor(private readonly options: { intraOpThreads: number; ortLogLevel?: OrtLogLevel }) {}

  async acquire(sha256: string, path: string): Promise<Session> {
    let entry = this.entries.get(sha256);
    if (!entry) {
      const ortLogLevel = this.options.ortLogLevel ?? 'fatal';
      // onnxruntime's process-wide logger takes this level when its first session is created.
      ort.env.logLevel = ortLogLevel;
      const session = ort.InferenceSession.create(path, {
        logSeverityLevel: ortSeverity(ortLogLevel),
        intraOpNumThreads: this.options.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }).catch((error: unknown) => {
        this.entries.delete(sha256);
        throw loadError(error);
      });
      entry = { session, refs: 0 };
      this.entries.set(sha256, entry);
    }
    entry.refs += 1;
    try {
      return await entry.session;
    } catch (error) {
      entry.refs -= 1;
      throw error;
    }
  }

  release(sha256: string): void {
    const entry = this.entries.get(sha256);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.entries.delete(sha256);
    void entry.session.then((session) => session.release()).catch(() => undefined);
  }

  /** Sessions currently loaded (for status and tests). */
  get size(): number {
    return this.entries.size;
  }
}
