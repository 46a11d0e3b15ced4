// The web console in a real browser against a real hub (embedded PGlite), without agents: every
// page passes axe-core (no serious or critical violation) and fits 390 px and 1440 px; a viewer
// token sees no action buttons and a 403 is shown with the hub's message. Screenshots of every page
// at both widths go to test-artifacts/console-browser/ (ignored by git).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
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
import type { MqttClient } from 'mqtt';
import { deviceStateTopic } from '@sentinel/broker';
import { connectDevice, createDevice, createGroup } from './support/fleet.js';
import { validMessage } from './support/mqtt-payloads.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, goldenMismatchModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';
import { deploy } from './support/deployments.js';

const ACTIONS = [
  'Push a model',
  'Deploy this version',
  'New deployment',
  'Save',
  'Pause',
  'Resume',
  'Promote',
  'Roll back',
  'Create group',
  'Register device',
  'Move',
  'Rotate credential',
];

describe(
  'web console: every page accessible at 390 and 1440 px; a viewer sees no actions',
  { skip: SKIP_WITHOUT_CHROMIUM },
  () => {
    let hub: InProcessHub;
    let browser: Browser;
    let v1: string;
    let v2: string;
    let deploymentId: string;
    let viewerToken: string;
    let pages: { name: string; path: string; ready: string }[];

    before(async () => {
      hub = await startHub();
      const push = async (version: string, bytes: Buffer, extra: Record<string, string> = {}) => {
        const response = await pushModel(hub, bytes, {
          name: 'det',
          version,
          tags: 'yard,night',
          ...extra,
        });
        assert.equal(response.status, 201);
        return (await json<{ id: string }>(response)).id;
      };
      v1 = await push('1.0.0', fastModel(), { metadata: '{"map":0.51,"dataset":"coco"}' });
      v2 = await push('2.0.0', goldenMismatchModel(), { parent_id: v1 });
      await createGroup(hub, 'yard');
      for (const id of ['cam-1', 'cam-2', 'cam-3']) await createDevice(hub, id, 'yard');
      const d = await deploy(hub, {
        model_id: v2,
        environment: 'production',
        deployment_type: 'canary',
        target: 'yard',
        canary: { steps: [50, 100], step_interval_s: 3600 },
      });
      deploymentId = d.id;
      const created = await api(hub)('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'wall-screen', role: 'viewer' }),
      });
      assert.equal(created.status, 201);
      viewerToken = (await json<{ token: string }>(created)).token;
      pages = [
        { name: 'models', path: '/models', ready: '[data-testid=models] tbody tr' },
        { name: 'model-version', path: `/models/${v2}`, ready: 'svg.lineage' },
        { name: 'deployments', path: '/deployments', ready: '[data-testid=deployments] tbody tr' },
        { name: 'deployment', path: `/deployments/${deploymentId}`, ready: '[data-testid=phases]' },
        {
          name: 'deployment-new',
          path: '/deployments/new',
          ready: 'form[aria-label="New deployment"] option[value="yard"]',
        },
        { name: 'fleet', path: '/fleet', ready: '[data-testid=devices] tbody tr' },
        { name: 'device', path: '/fleet/devices/cam-1', ready: 'dl.facts' },
        { name: 'telemetry', path: '/telemetry', ready: 'form[aria-label="Telemetry filters"]' },
      ];
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });

    after(async () => {
      await browser?.close();
      await hub?.stop();
    });

    for (const size of WIDTHS) {
      it(`passes axe-core and fits the width on every page at ${size.width} px`, async () => {
        const { page, errors } = await openConsole(browser, size.width, size.height);
        await page.goto(hub.url);
        await page.getByLabel('API token').waitFor();
        await assertAccessible(page, `sign-in at ${size.width}`);
        await screenshot(page, `${size.name}-sign-in`);
        await signIn(page, hub.url, hub.adminToken);
        for (const p of pages) {
          await go(page, p.path);
          await page.locator(p.ready).first().waitFor({ state: 'attached' });
          const label = `${p.name} at ${size.width} px`;
          await assertAccessible(page, label);
          await assertFitsWidth(page, label);
          await screenshot(page, `${size.name}-${p.name}`);
        }
        // The model page: ONNX header, signature state, metadata, lineage from v1 to v2.
        await go(page, `/models/${v2}`);
        await page.locator('svg.lineage').waitFor();
        const text = await page.locator('main').innerText();
        assert.match(text, /Opset\s+13/);
        assert.match(text, /Not signed/);
        assert.match(
          await page.getByTestId('lineage-caption').innerText(),
          /det 1\.0\.0 → det 2\.0\.0/,
        );
        assert.deepEqual(errors, [], 'no console errors (CSP refusals, exceptions)');
        await page.context().close();
      });
    }

    it('shows a viewer no action buttons, and explains a 403 with the hub message', async () => {
      const { page } = await openConsole(browser);
      await signIn(page, hub.url, viewerToken);
      assert.match(await page.getByTestId('whoami').innerText(), /wall-screen · viewer/);
      for (const p of pages.filter((x) => x.name !== 'deployment-new')) {
        await go(page, p.path);
        await page.locator(p.ready).first().waitFor({ state: 'attached' });
        for (const name of ACTIONS) {
          const buttons = page.getByRole('button', { name, exact: true });
          const links = page.getByRole('link', { name, exact: true });
          assert.equal(await buttons.count(), 0, `${p.name}: a viewer sees "${name}"`);
          assert.equal(await links.count(), 0, `${p.name}: a viewer sees "${name}"`);
        }
        await screenshot(page, `viewer-${p.name}`);
      }
      // Typed into the address bar, the form is there; the hub refuses and the page says why.
      await go(page, '/deployments/new');
      await page
        .locator('form[aria-label="New deployment"] option[value="yard"]')
        .waitFor({ state: 'attached' });
      await page.getByLabel('Target', { exact: true }).selectOption('yard');
      await page.getByRole('button', { name: 'Create deployment' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(
        await alert.innerText(),
        /Not allowed for your token's role \(403\): .*operator/i,
      );
      await screenshot(page, 'viewer-403');
      await page.context().close();
    });

    it('works from the keyboard: sign in, skip link, main navigation, push form', async () => {
      const { page } = await openConsole(browser);
      await page.goto(hub.url);
      await page.keyboard.press('Tab');
      await page.keyboard.type(hub.adminToken);
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        order.push((await page.evaluate('document.activeElement.textContent')) as string);
      }
      assert.deepEqual(order, ['Sentinel', 'Models', 'Deployments', 'Fleet']);
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/deployments$/);
      await page.locator('[data-testid=deployments] tbody tr').first().waitFor();
      // The push form, opened from the keyboard, passes axe-core too.
      await go(page, '/models');
      await page.getByRole('button', { name: 'Push a model' }).focus();
      await page.keyboard.press('Enter');
      await page.locator('form[aria-label="Push a model"]').waitFor();
      await assertAccessible(page, 'the push form');
      await screenshot(page, 'push-form');
      await page.context().close();
    });

    it('follows 1,000 device reports with a bounded number of re-fetches of the fleet list', async () => {
      const LOAD = Array.from({ length: 10 }, (_, i) => `load-${i}`);
      const REPORTS = 1000;
      await createGroup(hub, 'load');
      const clients: MqttClient[] = [];
      for (const id of LOAD)
        clients.push(
          await connectDevice(
            `mqtt://127.0.0.1:${hub.mqtt!.port}`,
            await createDevice(hub, id, 'load'),
          ),
        );
      const { page } = await openConsole(browser);
      await signIn(page, hub.url, hub.adminToken);
      await go(page, '/fleet');
      await page.locator('[data-testid=devices] tr[data-device="load-9"]').waitFor();
      await page.getByTestId('live').and(page.locator('[data-mode="stream"]')).waitFor();
      let fetches = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/devices') fetches++;
      });
      const started = Date.now();
      const rounds = REPORTS / LOAD.length;
      for (let round = 0; round < rounds; round++)
        await Promise.all(
          clients.map((client, i) => {
            const state = validMessage('device-state', LOAD[i]!);
            state.agent_version = round === rounds - 1 ? '9.9.9' : `0.${round}.0`;
            return client.publishAsync(deviceStateTopic(LOAD[i]!), JSON.stringify(state), {
              qos: 1,
            });
          }),
        );
      // The table ends with every device's last report, without a reload.
      for (const id of LOAD)
        await page
          .locator(`[data-testid=devices] tr[data-device="${id}"] td.agent`, { hasText: '9.9.9' })
          .waitFor();
      const elapsedMs = Date.now() - started;
      await Promise.all(clients.map((c) => c.endAsync()));
      console.log(
        `# ${REPORTS} reports: the fleet page fetched its list ${fetches} times in ${elapsedMs} ms`,
      );
      assert.ok(fetches >= 1, 'the page re-fetched');
      assert.ok(fetches <= REPORTS / 20, `${fetches} list fetches for ${REPORTS} reports`);
      // At most one re-fetch per 500 ms (the first at once), whatever the number of reports.
      assert.ok(
        fetches <= Math.floor(elapsedMs / 500) + 2,
        `${fetches} fetches in ${elapsedMs} ms`,
      );
      await page.context().close();
    });

    it('refuses a bad token at sign-in with the hub message', async () => {
      const { page } = await openConsole(browser);
      await page.goto(hub.url);
      await page.getByLabel('API token').fill('not-a-token-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.match(await page.getByRole('alert').innerText(), /401/);
      await page.context().close();
    });
  },
);
