// Tandem — MIT licence. Drives the dashboard in headless Chromium (playwright-core) against a live
// monitord; called by dashboard_test.sh. Every wait is a bounded Playwright wait on an event or
// a DOM condition, never a sleep.
//
// Environment: TANDEM_URL (http://127.0.0.1:PORT), TANDEM_APPS (apps simulated), TANDEM_TOKEN,
// TANDEM_SHOTS (screenshot directory), TANDEM_PW_DIR (where playwright-core is installed),
// TANDEM_MONITOR_PID (stopped and continued to check the outage banner), CHROMIUM.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(path.join(process.env.TANDEM_PW_DIR, 'node_modules') + '/');
const { chromium } = require('playwright-core');

const URL = process.env.TANDEM_URL;
const APPS = parseInt(process.env.TANDEM_APPS, 10);
const TOKEN = process.env.TANDEM_TOKEN;
const SHOTS = process.env.TANDEM_SHOTS;
const MPID = parseInt(process.env.TANDEM_MONITOR_PID || '0', 10);
const T = 30000;	/* default bound on one wait */

const results = [];
function ok(what) {
	results.push('ok - ' + what);
	console.log('ok - ' + what);
}

async function shot(page, name, full) {
	const f = path.join(SHOTS, name + '.png');
	await page.screenshot({ path: f, fullPage: !!full });
	console.log('screenshot ' + f);
}

/* Waits until the active view has finished at least one refresh. */
async function loaded(page, view) {
	await page.waitForFunction((v) => {
		const m = document.getElementById('view');
		return m.dataset.view === v && m.dataset.loaded === '1';
	}, view, { timeout: T });
}

async function go(page, hash, view) {
	await page.evaluate((h) => { location.hash = h; }, hash);
	await loaded(page, view);
}

const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-chromium-'));
const ctx = await chromium.launchPersistentContext(udd, {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	    '--disable-background-networking', '--disable-component-update', '--disable-sync',
	    '--disable-dev-shm-usage'],
	viewport: { width: 1440, height: 900 },
	deviceScaleFactor: 1,
	timeout: T,
});
const failures = [];
let exitCode = 0;
try {
	/* Only 127.0.0.1: anything else the page asks for is refused and is a failure. */
	const foreign = [];
	await ctx.route('**/*', (route) => {
		const u = new globalThis.URL(route.request().url());
		if (u.hostname === '127.0.0.1')
			return route.continue();
		foreign.push(u.href);
		return route.abort();
	});
	const page = ctx.pages()[0] || await ctx.newPage();
	const pageErrors = [];
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	page.setDefaultTimeout(T);

	/* 1. Overview: every simulated application is listed. */
	await page.goto(URL + '/#/overview', { waitUntil: 'load' });
	await loaded(page, 'overview');
	await page.waitForFunction((n) => document.querySelector('#tile-apps .tile-value')
	    .textContent === String(n), APPS, { timeout: T });
	const rows = await page.locator('#apps tbody tr[data-app]').count();
	if (rows !== Math.min(APPS, 50))
		throw new Error('overview shows ' + rows + ' rows, want ' + Math.min(APPS, 50));
	const pageInfo = await page.locator('#apps .pageinfo').textContent();
	if (!pageInfo.includes('of ' + APPS))
		throw new Error('pager says "' + pageInfo + '"');
	ok('overview lists ' + APPS + ' applications (' + pageInfo + ')');
	/* Search narrows the list; the last page holds the rest. */
	await page.fill('#app-filter', 'app-1');
	await page.waitForFunction(() => [...document.querySelectorAll('#apps tbody tr[data-app]')]
	    .every((tr) => tr.dataset.app.includes('app-1')), null, { timeout: T });
	await page.fill('#app-filter', '');
	ok('filter narrows the application list');

	/* 2. A growing queue shows as alarming: app-2's row says so (health warning, worst
	 * queue growing), the growing-queues tile is lit, and the Queues page lists
	 * app-2/inbound among the growing queues. */
	await page.waitForSelector('#tile-growing.lit', { timeout: 60000 });
	await shot(page, 'overview');
	await page.fill('#app-filter', 'app-2');
	await page.waitForSelector('#apps tr.health-warning[data-app="app-2"] .badge.growing',
	    { timeout: 60000 });
	ok('app-2 is flagged on the overview: health warning, worst queue growing');
	await page.click('#apps tr[data-app="app-2"] td:nth-child(2) a');
	await loaded(page, 'queues');
	await page.waitForSelector('#growing tr.alarming[data-app="app-2"][data-queue="inbound"]',
	    { timeout: T });
	ok('app-2/inbound is listed among the growing queues');

	/* 3. Queue view: live depth chart, verdict growing. */
	const card = page.locator('.card[data-queue="inbound"]');
	await card.locator('.badge.growing').waitFor({ timeout: T });
	await card.locator('canvas').first().waitFor({ timeout: T });
	if (!(await card.evaluate((el) => el.classList.contains('alarming'))))
		throw new Error('app-2/inbound card is not marked alarming');
	/* The chart has data: uPlot draws the legend value of the last point. */
	ok('queue view: app-2/inbound card alarming with a depth chart');
	await shot(page, 'queues');

	/* 4. Transactions board, filtered by application, then one timeline. */
	await go(page, '#/txns', 'txns');
	await page.waitForSelector('#board tbody tr[data-txn]', { timeout: T });
	await page.fill('#txn-filters input[name=app]', 'app-1');
	await page.click('#txn-filters button[type=submit]');
	await page.waitForFunction(() => {
		const r = [...document.querySelectorAll('#board tbody tr[data-txn]')];
		return location.hash.includes('app=app-1') && r.length > 0 &&
		    r.every((tr) => tr.dataset.app === 'app-1');
	}, null, { timeout: T });
	await page.waitForSelector('#steps tbody tr', { timeout: T });
	ok('transactions board filters by application; step model shown');
	await shot(page, 'transactions');
	/* The transaction with the most steps so far makes the best timeline. */
	const link = page.locator('#board tbody tr[data-txn] td:nth-child(2) a');
	const n = await link.count();
	let best = 0, bestSteps = -1;
	for (let i = 0; i < n; i++) {
		const s = parseInt(await page.locator('#board tbody tr[data-txn]').nth(i)
		    .locator('td:nth-child(8)').textContent(), 10);
		if (s > bestSteps) {
			best = i;
			bestSteps = s;
		}
	}
	const id = await link.nth(best).textContent();
	await link.nth(best).click();
	await loaded(page, 'txn');
	await page.waitForSelector('#timeline .gantt-row', { timeout: T });
	const ev = await page.locator('#txn tbody tr').count();
	if (ev < 1)
		throw new Error('timeline of ' + id + ' has no events');
	ok('timeline of ' + id + ' shows ' + ev + ' events');
	await shot(page, 'timeline');

	/* 5. Performance, logs, cluster. */
	await go(page, '#/perf', 'perf');
	await page.waitForSelector('#perf-top tbody tr', { timeout: T });
	await page.waitForSelector('#perf-all tbody tr', { timeout: T });
	ok('performance: top-N and per app/job tables');
	await shot(page, 'performance');
	await go(page, '#/logs', 'logs');
	await page.waitForSelector('#logs tbody tr', { timeout: T });
	await page.fill('#log-search input[type=search]:not([list])', 'PLC');
	await page.click('#log-search button[type=submit]');
	await page.waitForFunction(() => {
		const m = [...document.querySelectorAll('#logs td.msg')];
		return m.length > 0 && m.every((td) => td.textContent.includes('PLC'));
	}, null, { timeout: T });
	ok('log search by text');
	await go(page, '#/cluster', 'cluster');
	await page.waitForSelector('#cluster tbody tr', { timeout: T });
	ok('cluster panel: ' + (await page.locator('#cluster tbody tr').first().innerText())
	    .replace(/\s+/g, ' '));

	/* 6. Alarms: acknowledge through the UI when the alarms API exists. */
	const status = await page.evaluate(() => fetch('/api/v1/alarms').then((r) => r.status));
	await go(page, '#/alarms', 'alarms');
	if (status === 404) {
		const rowsA = await page.locator('#alarms tbody tr').count();
		const note = await page.locator('#alarms p.muted').first().textContent();
		if (rowsA !== 0 || !note.includes('no alarms API'))
			throw new Error('alarms view without the API: ' + rowsA + ' rows, "' + note + '"');
		ok('alarms API absent (404): the alarm panel shows an empty list — acknowledge not tested');
	} else {
		const btn = page.locator('#alarms tr.alarm-row button.ack:not([disabled])').first();
		await btn.waitFor({ timeout: 90000 });
		const aid = await btn.evaluate((b) => b.closest('tr').dataset.alarm);
		await btn.click();
		await page.fill('#modal input[name=who]', 'browser-test');
		await page.fill('#modal input[name=comment]', 'looking at it');
		await page.click('#modal button[type=submit]');
		await page.waitForSelector('#modal input[name=token]', { timeout: T });
		await page.fill('#modal input[name=token]', TOKEN);
		await page.click('#modal button[type=submit]');
		await page.waitForFunction(async (id) => {
			const r = await fetch('/api/v1/alarms').then((x) => x.json());
			const a = (Array.isArray(r) ? r : r.alarms).find((x) =>
			    String(x.id !== undefined ? x.id : x.key) === id);
			return a && (a.state === 'acknowledged' || a.state === 'acked' || !!a.ack_by);
		}, aid, { timeout: T, polling: 500 });
		await page.waitForSelector('#alarms tr[data-alarm="' + aid.replace(/"/g, '\\"') +
		    '"] .badge.alarm-acknowledged', { timeout: T });
		ok('alarm ' + aid + ' acknowledged through the UI; the API shows it acknowledged');
	}
	await shot(page, 'alarms');

	/* 7. Outage: monitord stopped => banner, retrying; continued => banner gone. */
	if (MPID) {
		await go(page, '#/overview', 'overview');
		process.kill(MPID, 'SIGSTOP');
		try {
			await page.waitForSelector('#banner:not(.hidden)', { timeout: 20000 });
			const b = await page.locator('#banner').textContent();
			if (!/unreachable/.test(b))
				throw new Error('banner says "' + b + '"');
			await shot(page, 'outage');
		} finally {
			process.kill(MPID, 'SIGCONT');
		}
		await page.waitForSelector('#banner.hidden', { state: 'attached', timeout: 30000 });
		ok('API outage shows the banner; it clears when the API answers again');
	}

	if (foreign.length)
		failures.push('requests outside 127.0.0.1: ' + foreign.slice(0, 5).join(', '));
	if (pageErrors.length)
		failures.push('JavaScript errors: ' + pageErrors.slice(0, 5).join(' | '));
} catch (e) {
	failures.push(String(e && e.stack || e));
	try {
		const p = ctx.pages()[0];
		if (p)
			await shot(p, 'failure', true);
	} catch (e2) { /* nothing more to save */ }
} finally {
	await ctx.close();
	fs.rmSync(udd, { recursive: true, force: true });
}
if (failures.length) {
	for (const f of failures)
		console.log('not ok - ' + f);
	exitCode = 1;
}
console.log(results.length + ' checks passed, ' + failures.length + ' failed');
process.exit(exitCode);
