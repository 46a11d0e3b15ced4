// Swagger UI in a real browser (Debian's chromium, driven by playwright-core) against a real hub
// process: "Try it out" must work as pre-filled. Screenshots go to .tmp/swagger-browser/ (ignored),
// or to $TEST_ARTIFACTS_DIR/swagger-browser.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { spawnHub, type HubProcess } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM)
  ? false
  : `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
const SHOTS = join(
  process.env.TEST_ARTIFACTS_DIR ?? new URL('../../.tmp', import.meta.url).pathname,
  'swagger-browser',
);

interface Executed {
  status: number;
  body: string;
}

/** Expands an operation, presses "Try it out", lets `prepare` touch the form, executes. */
async function tryItOut(
  page: Page,
  operationId: string,
  prepare: (block: Locator) => Promise<void> = async () => undefined,
): Promise<Executed> {
  const block = page.locator(`.opblock[id$="-${operationId}"]`);
  await block.locator('.opblock-summary').click();
  await block.locator('button.try-out__btn').click();
  await prepare(block);
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table tbody tr.response').first();
  await row.waitFor();
  const status = Number(await row.locator('.response-col_status').innerText());
  const body = await row.locator('.response-col_description pre').first().innerText();
  await page.screenshot({ path: join(SHOTS, `${operationId}.png`), fullPage: true });
  await block.locator('.opblock-summary').click(); // collapse again
  return { status, body };
}

describe('Swagger UI try-it-out in a real browser', { skip: SKIP }, () => {
  let hub: HubProcess;
  let browser: Browser;
  let page: Page;
  let modelFile: string;
  let scratch: string;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    scratch = mkdtempSync(join(tmpdir(), 'sentinel-swagger-'));
    modelFile = join(scratch, 'detector.onnx');
    writeFileSync(modelFile, fastModel());
    hub = await spawnHub();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${hub.url}/docs`);
    await page.locator('.opblock').first().waitFor();
    // Authorise with the admin token, as a user does with the padlock button.
    await page.locator('button.authorize').first().click();
    await page.locator('#auth-bearer-value').fill(hub.adminToken);
    await page.locator('.auth-container').first().locator('button.authorize').click();
    await page.locator('.modal-ux button.close-modal').click();
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('pushes a model with the pre-filled form and a chosen ONNX file: 201', async () => {
    const { status, body } = await tryItOut(page, 'RegistryController_push', (block) =>
      block.locator('tr[data-property-name="file"] input[type=file]').setInputFiles(modelFile),
    );
    assert.equal(status, 201, body);
    const model = JSON.parse(body) as Record<string, unknown>;
    assert.equal(model.name, 'yolov8n-traffic');
    assert.equal(model.version, '1.4.0');
    assert.deepEqual(model.metadata, { map: 0.62, dataset: 'coco-2017' });
    assert.deepEqual(model.tags, ['traffic', 'night']);
    assert.equal(model.parent_id, null);
    assert.equal(model.signature, null);
  });

  it('lists models as pre-filled: 200 with the pushed one', async () => {
    const { status, body } = await tryItOut(page, 'RegistryController_list');
    assert.equal(status, 200, body);
    const list = JSON.parse(body) as { total: number; items: { name: string }[] };
    assert.equal(list.total, 1);
    assert.equal(list.items[0]!.name, 'yolov8n-traffic');
  });

  it('gets a model by the pre-filled example id: a well-formed request, answered 404', async () => {
    const { status, body } = await tryItOut(page, 'RegistryController_get');
    assert.equal(status, 404, body);
    assert.equal((JSON.parse(body) as { error: string }).error, 'NOT_FOUND');
  });

  it('runs other GET routes as pre-filled: 200', async () => {
    for (const operation of [
      'TokensController_list',
      'GroupsController_list',
      'DevicesController_list',
      'DeploymentsController_list',
    ]) {
      const { status, body } = await tryItOut(page, operation);
      assert.equal(status, 200, `${operation}: ${body}`);
    }
  });

  it('shows a 401 and a 403 body under 401 and 403, not a 400 one', async () => {
    const block = page.locator('.opblock[id$="-RegistryController_list"]');
    await block.locator('.opblock-summary').click();
    for (const [code, error] of [
      ['401', 'UNAUTHENTICATED'],
      ['403', 'FORBIDDEN'],
    ]) {
      const example = await block
        .locator(
          `.responses-inner tr.response[data-code="${code}"] .example, .responses-inner tr.response[data-code="${code}"] pre`,
        )
        .first()
        .innerText();
      assert.match(example, new RegExp(`"statusCode": ${code}`));
      assert.match(example, new RegExp(error));
    }
    await page.screenshot({ path: join(SHOTS, 'error-examples.png'), fullPage: true });
  });
});
