// The web console driving a real hub (embedded PGlite) and real agents in simulation mode, in
// Debian's chromium: sign in, push a model with the form (its progress bar), create a canary of a
// slow model in the form and watch its page follow the devices without a reload until the rules
// roll it back with their figures on the page, roll back another by hand, and register, rotate and
// move a device. Screenshots go to test-artifacts/console-browser/ (ignored by git).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AgentFleet, saltFor } from './support/agent-fleet.js';
import {
  CHROMIUM,
  SKIP_WITHOUT_CHROMIUM,
  WIDTHS,
  assertAccessible,
  assertFitsWidth,
  go,
  openConsole,
  screenshot,
  signIn,
} from './support/console-browser.js';
import { deploy, waitForDeployment } from './support/deployments.js';
import { connectDevice } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, goldenMismatchModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';
import { generateSigningKey, signBufferAsBundle } from './support/signing.js';

const DEVICES = ['cam-1', 'cam-2', 'cam-3', 'cam-4'];
// One device of four in the 25 % cohort (as in rules.e2e): one core runs the slow model flat out.
const SALT = saltFor(DEVICES, 25, 1, 'console-e2e');
const SLOW = { rows: 128, hidden: 512, layers: 16 };
const RULES = { window_s: 3, warmup_s: 1, min_samples: 2 };

/** As the console prints a figure (components.tsx num()). */
const figure = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

describe('web console with real agents', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let scratch: string;
  let v1: string;
  const key = generateSigningKey();

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'sentinel-console-'));
    hub = await startHub({
      ROLLOUT_INTERVAL_MS: '100',
      RULES_INTERVAL_S: '1',
      TRUSTED_KEYS: key.publicKeyPem,
    });
    fleet = await AgentFleet.start(hub, {
      SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
      SENTINEL_SIMULATE_FPS: '200',
    });
    await fleet.group('yard', DEVICES);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    ({ page, errors } = await openConsole(browser));
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await hub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('signs in and pushes a model with the form, showing upload progress', async () => {
    await signIn(page, hub.url, hub.adminToken);
    assert.match(await page.getByTestId('whoami').innerText(), /admin$/);
    const file = join(scratch, 'det.onnx');
    const bytes = fastModel();
    writeFileSync(file, bytes);
    const bundle = join(scratch, 'det.sigstore.json');
    writeFileSync(bundle, await signBufferAsBundle(bytes, key));
    await page.getByRole('button', { name: 'Push a model' }).click();
    // Every value the progress bar shows, as the page renders it.
    await page.evaluate(`
      window.__progress = [];
      new MutationObserver(() => {
        const p = document.querySelector('progress');
        if (p) window.__progress.push([p.value, p.max]);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    `);
    const push = page.locator('form[aria-label="Push a model"]');
    await push.getByLabel('File', { exact: true }).setInputFiles(file);
    await push.getByLabel('Name', { exact: true }).fill('det');
    await push.getByLabel('Version', { exact: true }).fill('1.0.0');
    await push.getByLabel('Tags', { exact: true }).fill('yard');
    await push.getByLabel('Signature (Sigstore bundle)', { exact: true }).setInputFiles(bundle);
    await push.getByRole('button', { name: 'Push', exact: true }).click();
    await page.waitForURL(/\/models\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'det 1.0.0' }).waitFor();
    v1 = page.url().split('/').pop()!;
    const progress = (await page.evaluate('window.__progress')) as [number, number][];
    assert.ok(progress.length > 0, 'a progress bar was shown');
    assert.ok(
      progress.every(([, max]) => max >= bytes.length),
      `progress out of the file's ${bytes.length} bytes: ${JSON.stringify(progress)}`,
    );
    assert.match(await page.locator('main').innerText(), /Opset\s+13/);
    await screenshot(page, 'pushed-model');
    const model = await json<{
      name: string;
      version: string;
      tags: string[];
      signature: { key_hint: string } | null;
    }>(await api(hub)(`/api/v1/models/${v1}`));
    assert.deepEqual([model.name, model.version, model.tags], ['det', '1.0.0', ['yard']]);
    assert.ok(model.signature, 'pushed with its signature');
    assert.ok(
      (await page.locator('main').innerText()).includes(model.signature.key_hint),
      'the signer key shown',
    );

    // The fleet's baseline: every device on 1.0.0, with a few seconds of its telemetry.
    const first = await deploy(hub, {
      model_id: v1,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      observe_s: 0,
    });
    await waitForDeployment(hub, first.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(DEVICES, '1.0.0');
    await new Promise((r) => setTimeout(r, (RULES.window_s + 1) * 1000));
  });

  it('creates a canary in the form; its page follows the devices without a reload until the rules roll it back, with the figures', async () => {
    const pushed = await pushModel(hub, slowModel(SLOW), { name: 'det', version: '2.0.0' });
    assert.equal(pushed.status, 201);
    const slow = (await json<{ id: string }>(pushed)).id;
    await go(page, `/deployments/new?model=${slow}`);
    const form = page.locator('form[aria-label="New deployment"]');
    await form.locator('option[value="yard"]').waitFor({ state: 'attached' });
    assert.equal(await form.getByLabel('Model version', { exact: true }).inputValue(), slow);
    await form.getByLabel('Target', { exact: true }).selectOption('yard');
    await form.getByLabel('Canary steps (%)', { exact: true }).fill('25, 100');
    await form.getByLabel('Step interval (s)', { exact: true }).fill('3600');
    await form.getByLabel('Cohort salt', { exact: true }).fill(SALT);
    for (const [key, value] of Object.entries(RULES))
      await form.getByLabel(key, { exact: true }).fill(String(value));
    // The rules' defaults are shown beside their fields.
    assert.equal(
      await form.getByLabel('fps_drop_pct', { exact: true }).getAttribute('placeholder'),
      '10',
    );
    await page.evaluate('window.__sameDocument = true');
    // Every distinct devices-per-phase and status the page shows while the devices report, from
    // before the deployment exists: on a loaded machine the rules may roll the canary back before
    // the test's next step, so the page is watched from its first render, not polled after it.
    await page.evaluate(`
      window.__phases = [];
      window.__statuses = [];
      const snap = () => {
        const text = [...document.querySelectorAll('[data-phase]')]
          .map((li) => li.dataset.phase + ' ' + li.querySelector('.phase-count').textContent)
          .join(', ');
        if (text && window.__phases.at(-1) !== text) window.__phases.push(text);
        const status = document.querySelector('[data-testid=deployment-status]')?.textContent?.trim();
        if (status && window.__statuses.at(-1) !== status) window.__statuses.push(status);
      };
      snap();
      new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    await form.getByRole('button', { name: 'Create deployment' }).click();
    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const created = await json<{
      canary: { steps: number[]; salt: string };
      rules: Record<string, number>;
    }>(await api(hub)(`/api/v1/deployments/${id}`));
    assert.deepEqual(created.canary.steps, [25, 100]);
    assert.equal(created.canary.salt, SALT);
    assert.equal(created.rules.window_s, 3);

    await page.getByTestId('deployment-status').waitFor();
    await screenshot(page, 'canary-live');
    await page
      .getByTestId('deployment-status')
      .getByText('rolled_back')
      .waitFor({ timeout: 120_000 });
    const statuses = (await page.evaluate('window.__statuses')) as string[];
    assert.ok(
      statuses.findIndex((t) => t.includes('in_progress')) >= 0 &&
        statuses.findIndex((t) => t.includes('in_progress')) <
          statuses.findIndex((t) => t.includes('rolled_back')),
      `the page showed the canary live, then rolled back: ${statuses.join(' | ')}`,
    );
    const seen = (await page.evaluate('window.__phases')) as string[];
    console.log(`# devices per phase as the page showed them: ${seen.join(' | ')}`);
    // The phases it passes through last a second or two each: on a loaded machine a re-fetch may
    // land after one of them, so the page must have changed, through at least one of them.
    assert.ok(seen.length >= 2, `the page followed the device: ${seen.join(' | ')}`);
    assert.ok(
      seen.some((s) => /\b(notified|downloading|verifying|staged|active) [1-9]/.test(s)),
      `the page showed the device on its way: ${seen.join(' | ')}`,
    );
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');

    // The rules' verdict with its figures, as the hub has them.
    const health = await json<{
      verdict: string;
      action: string;
      checks: { metric: string; status: string; cohort: number | null; baseline: number | null }[];
    }>(await api(hub)(`/api/v1/deployments/${id}/health`));
    assert.equal(health.verdict, 'degraded');
    const table = page.getByTestId('health-checks');
    await table.waitFor();
    for (const check of health.checks.filter((c) => c.status === 'degraded')) {
      const row = table
        .locator('tr', { has: page.locator('th', { hasText: check.metric }) })
        .first();
      const text = await row.innerText();
      assert.match(text, /degraded/);
      assert.ok(
        text.includes(figure(check.cohort!)),
        `${check.metric} new ${check.cohort}: ${text}`,
      );
      assert.ok(
        text.includes(figure(check.baseline!)),
        `${check.metric} baseline ${check.baseline}: ${text}`,
      );
    }
    const rolled = page.getByTestId('events').locator('li[data-type="rolled_back"]');
    assert.match(await rolled.innerText(), /by rules[\s\S]*degraded: (fps|latency_p95|memory)/);

    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await assertAccessible(page, `rolled-back canary at ${size.width} px`);
      await assertFitsWidth(page, `rolled-back canary at ${size.width} px`);
      await screenshot(page, `${size.name}-canary-rolled-back`);
    }
    await page.setViewportSize({ width: WIDTHS[1].width, height: WIDTHS[1].height });
  });

  it('rolls a canary back by hand with a reason', async () => {
    await fleet.waitServing(DEVICES, '1.0.0');
    const pushed = await pushModel(hub, goldenMismatchModel(), { name: 'det', version: '3.0.0' });
    const next = (await json<{ id: string }>(pushed)).id;
    const canary = await deploy(hub, {
      model_id: next,
      environment: 'production',
      deployment_type: 'canary',
      target: 'yard',
      canary: { steps: [25, 100], step_interval_s: 3600, salt: SALT },
      rules: { enabled: false },
    });
    await go(page, `/deployments/${canary.id}`);
    await page.getByTestId('deployment-status').getByText('in_progress').waitFor();
    await page.getByLabel('Reason (optional)', { exact: true }).fill('artefacts on camera 3');
    await page.getByRole('button', { name: 'Roll back' }).click(); // the confirm() is accepted
    await page.getByTestId('deployment-status').getByText('rolled_back').waitFor();
    const event = page.getByTestId('events').locator('li[data-type="rolled_back"]');
    assert.match(await event.innerText(), /by token:bootstrap-admin[\s\S]*artefacts on camera 3/);
    assert.equal(await page.getByRole('button', { name: 'Roll back' }).count(), 0);
    await screenshot(page, 'manual-rollback');
    await fleet.waitServing(DEVICES, '1.0.0');
  });

  it('shows what devices run, registers one with its credential once, rotates it and moves it', async () => {
    await go(page, '/fleet');
    const row = page.locator('[data-testid=devices] tr[data-device="cam-1"]');
    await row.locator('td.version', { hasText: '1.0.0' }).waitFor();
    assert.match(await row.innerText(), /online/);
    await page.getByLabel('Group name', { exact: true }).fill('lab');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.locator('[data-testid=groups] tr', { hasText: 'lab' }).waitFor();

    const register = page.locator('form[aria-label="Register a device"]');
    await register.getByLabel('Device id', { exact: true }).fill('cam-9');
    await register.getByLabel('Group', { exact: true }).selectOption('yard');
    await register.getByRole('button', { name: 'Register device' }).click();
    const env = await page.getByTestId('credential').locator('textarea').inputValue();
    assert.match(env, /^SENTINEL_DEVICE_ID=cam-9$/m);
    assert.match(env, new RegExp(`^SENTINEL_HUB_URL=${hub.url}$`, 'm'));
    const password = /^SENTINEL_MQTT_PASSWORD=(.+)$/m.exec(env)![1]!;
    const login = (secret: string) =>
      connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
        id: 'cam-9',
        credentials: { username: 'cam-9', client_id: 'cam-9', password: secret },
      } as Parameters<typeof connectDevice>[1]);
    await (await login(password)).endAsync();
    await screenshot(page, 'device-credential');
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByTestId('credential').count(), 0, 'shown once');

    await go(page, '/fleet/devices/cam-9');
    await page.getByRole('button', { name: 'Rotate credential' }).click();
    const rotated = await page.getByTestId('credential').locator('textarea').inputValue();
    const fresh = /^SENTINEL_MQTT_PASSWORD=(.+)$/m.exec(rotated)![1]!;
    assert.notEqual(fresh, password);
    await assert.rejects(login(password), 'the old password no longer works');
    await (await login(fresh)).endAsync();
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByLabel('Move to group', { exact: true }).selectOption('lab');
    await page.getByRole('button', { name: 'Move' }).click();
    await page.locator('dl.facts', { hasText: 'lab' }).waitFor();
    const moved = await json<{ group: string }>(await api(hub)('/api/v1/devices/cam-9'));
    assert.equal(moved.group, 'lab');
    await screenshot(page, 'device-moved');
  });

  it('charts telemetry per model version and device, and says how it follows the hub', async () => {
    await go(page, '/telemetry');
    await page.locator('.telemetry .uplot').first().waitFor();
    assert.equal(
      await page.locator('.telemetry .uplot').count(),
      4,
      'FPS, latency, memory, errors (mAP: no agent reports one here)',
    );
    // Series named by their model versions (once the version list is in).
    await page.locator('.telemetry .uplot').first().getByText('det 1.0.0').waitFor();
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await assertAccessible(page, `telemetry charts at ${size.width} px`);
      await assertFitsWidth(page, `telemetry charts at ${size.width} px`);
      await screenshot(page, `${size.name}-telemetry-charts`);
    }
    await page.setViewportSize({ width: WIDTHS[1].width, height: WIDTHS[1].height });
    await go(page, '/fleet/devices/cam-2');
    await page.locator('.telemetry .uplot').first().waitFor();
    await screenshot(page, 'device-telemetry');

    // Live through the hub's event stream.
    assert.equal(await page.getByTestId('live').getAttribute('data-mode'), 'stream');
    assert.deepEqual(errors, [], 'no console errors (CSP refusals, exceptions)');
  });
});
