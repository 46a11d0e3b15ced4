import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { api, startHub, type InProcessHub } from './support/hub.js';

// docs/examples/nightly-upload.yml, the specified usage's nightly upload as a real GitHub Actions
// workflow: checked against the GitHub workflow JSON Schema (vendored, see
// test/fixtures/github-workflow.schema.README.md), and its push step run as GitHub would run it,
// against a real hub, with a PyTorch-format file made here.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOW_FILE = join(ROOT, 'docs/examples/nightly-upload.yml');
const SCHEMA_FILE = join(ROOT, 'test/fixtures/github-workflow.schema.json');
const PUSH_EXAMPLE = join(ROOT, 'docs/examples/push_model.py');
const PUSH_STEP = 'Push model to Model Hub';
/** The night the test's runner lives in: now, so CI's shifted clock shifts it too. */
const FROZEN_EPOCH_S = Math.floor(Date.now() / 1000);
const NIGHTLY_VERSION = new Date(FROZEN_EPOCH_S * 1000)
  .toISOString()
  .slice(0, 10)
  .replaceAll('-', '');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  shell?: string;
}
interface Workflow {
  on: { schedule?: { cron: string }[] };
  jobs: Record<string, { steps: Step[] }>;
}

function loadWorkflow(): Workflow {
  return parse(readFileSync(WORKFLOW_FILE, 'utf8')) as Workflow;
}

function compileSchema() {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object;
  // strict is off: SchemaStore's schema is written for any draft-07 validator and leaves `type`
  // implicit next to oneOf branches and `items` arrays; validation itself is unaffected.
  const ajv = new Ajv({ allErrors: true, strict: false });
  return { ajv, validate: ajv.compile(schema) };
}

function allSteps(workflow: Workflow): Step[] {
  return Object.values(workflow.jobs).flatMap((job) => job.steps);
}

/** GitHub's `${{ expr }}` substitution for the contexts the step uses; anything else is an error. */
function substitute(value: string, contexts: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => {
    if (!(expression in contexts))
      throw new Error(`the test has no value for \${{ ${expression} }}`);
    return contexts[expression];
  });
}

/** A TorchScript-shaped archive (what torch.jit.save writes): a zip with data.pkl, code/, version. */
function writeTorchScriptFile(python: string, path: string): void {
  const script = [
    'import pickle, sys, zipfile',
    "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
    "    z.writestr('model/data.pkl', pickle.dumps({'weights': [0.5] * 4096}, protocol=2))",
    "    z.writestr('model/code/__torch__/model.py', 'class Model:\\n  pass\\n')",
    "    z.writestr('model/constants.pkl', pickle.dumps((), protocol=2))",
    "    z.writestr('model/byteorder', 'little')",
    "    z.writestr('model/version', '3\\n')",
  ].join('\n');
  const result = spawnSync(python, ['-c', script, path]);
  assert.equal(result.status, 0, result.stderr?.toString());
}

function pythonWithRequests(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import requests']).status === 0) return candidate;
  }
  return null;
}

/** Runs a `run:` script as GitHub does on Linux without `shell:` (`bash -e {0}`), in `cwd`. */
function runStep(script: string, cwd: string, env: NodeJS.ProcessEnv) {
  const file = join(cwd, '.step.sh');
  writeFileSync(file, script);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['-e', file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the nightly upload workflow (docs/examples/nightly-upload.yml)', () => {
  it('is a valid GitHub Actions workflow by the GitHub workflow JSON Schema', () => {
    const { ajv, validate } = compileSchema();
    assert.ok(validate(loadWorkflow()), ajv.errorsText(validate.errors, { separator: '\n' }));
  });

  it('the schema check is a real one: broken workflows are refused', () => {
    const { validate } = compileSchema();
    const noRunner = loadWorkflow() as unknown as { jobs: Record<string, Record<string, unknown>> };
    delete noRunner.jobs['upload-model']['runs-on'];
    assert.equal(validate(noRunner), false, 'a job without runs-on');

    const badCron = loadWorkflow();
    badCron.on.schedule = [{ cron: 'every night' }];
    assert.equal(validate(badCron), false, 'a schedule that is not cron');

    const typo = loadWorkflow();
    (typo.jobs['upload-model'].steps[0] as Record<string, unknown>).runs = 'echo';
    assert.equal(validate(typo), false, 'a step with an unknown key');
  });

  it('runs every night, takes the token from secrets, and keeps expressions out of scripts', () => {
    const workflow = loadWorkflow();
    assert.deepEqual(workflow.on.schedule, [{ cron: '0 0 * * *' }]);
    const push = allSteps(workflow).find((step) => step.name === PUSH_STEP);
    assert.ok(push?.run, `a step named "${PUSH_STEP}" with a run script`);
    assert.equal(push.env?.SENTINEL_TOKEN, '${{ secrets.MODEL_HUB_TOKEN }}');
    assert.match(push.run, /date -u \+%Y%m%d/);
    assert.match(push.run, /--framework pytorch/);
    // A `${{ }}` inside a script is pasted into the shell source (script injection); env is not.
    for (const step of allSteps(workflow))
      assert.doesNotMatch(step.run ?? '', /\$\{\{/, `step "${step.name}" has an expression in run`);
  });

  const python = pythonWithRequests();
  describe(
    'its push step, run against a real hub',
    { skip: python ? false : 'no python3 with requests here' },
    () => {
      let hub: InProcessHub;
      const work = mkdtempSync(join(tmpdir(), 'sentinel-nightly-'));
      const bin = join(work, '.bin');
      const summary = join(work, '.step-summary.md');
      let step: Step;
      let env: NodeJS.ProcessEnv;

      before(async () => {
        hub = await startHub();
        step = allSteps(loadWorkflow()).find((candidate) => candidate.name === PUSH_STEP)!;
        // The checkout the workflow runs in: push_model.py where the workflow's header says to put
        // it, and the model.pt that the "Download latest model" step leaves behind.
        mkdirSync(join(work, 'tools'));
        copyFileSync(PUSH_EXAMPLE, join(work, 'tools/push_model.py'));
        writeTorchScriptFile(python!, join(work, 'model.pt'));
        // setup-python puts a python3 with requests first on PATH; so does this.
        mkdirSync(bin);
        const resolved = spawnSync(python!, ['-c', 'import sys; print(sys.executable)']);
        symlinkSync(resolved.stdout.toString().trim(), join(bin, 'python3'));
        // The runner's clock, frozen for the test: both runs are "the same night" whatever the time.
        const realDate = spawnSync('sh', ['-c', 'command -v date']).stdout.toString().trim();
        writeFileSync(
          join(bin, 'date'),
          `#!/bin/sh\nexec ${realDate} -d @${FROZEN_EPOCH_S} "$@"\n`,
          {
            mode: 0o755,
          },
        );
        const contexts = {
          'secrets.MODEL_HUB_TOKEN': hub.adminToken,
          'vars.MODEL_HUB_URL': hub.url,
        };
        env = {
          ...process.env,
          PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
          GITHUB_STEP_SUMMARY: summary,
          ...Object.fromEntries(
            Object.entries(step.env ?? {}).map(([key, value]) => [
              key,
              substitute(value, contexts),
            ]),
          ),
        };
      });
      after(async () => {
        await hub?.stop();
        rmSync(work, { recursive: true, force: true });
      });

      it('pushes model.pt as yolov10@YYYYMMDD, framework pytorch, stage staging', async () => {
        const result = await runStep(step.run!, work, env);
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
        const match = /^Model pushed: yolov10@(\d{8}) \(([0-9a-f-]{36})\)$/m.exec(result.stdout);
        assert.ok(match, result.stdout);
        const [, version, id] = match;
        assert.equal(version, NIGHTLY_VERSION);
        const model = (await (await api(hub)(`/api/v1/models/${id}`)).json()) as Record<
          string,
          unknown
        >;
        assert.deepEqual(
          [model.name, model.version, model.framework, model.model_type, model.stage],
          ['yolov10', version, 'pytorch', 'yolo', 'staging'],
        );
        assert.match(readFileSync(summary, 'utf8'), new RegExp(`yolov10@${version}, id ${id}`));
      });

      it("a second run the same night fails the step with the hub's message", async () => {
        const result = await runStep(step.run!, work, env);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /push_model\.py: the hub refused the push: HTTP 409 \w+: /);
        assert.doesNotMatch(result.stderr, /Traceback/);
      });
    },
  );
});
