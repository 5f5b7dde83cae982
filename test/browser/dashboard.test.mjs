// dashboard.test.mjs - the dashboard in a real browser.
//
// Starts a real coordinator and buildlet on 127.0.0.1 (ephemeral port,
// open mode), submits builds with the real CLI, and drives Debian's
// /usr/bin/chromium (headless, --no-sandbox) with playwright-core:
//   - the matrix at / shows one passed and one failed cell (markup contract
//     in dashboard/dashboard.h: a.cell.s-STATE[data-job][data-state]);
//   - clicking the failed cell leads to its job page, whose log holds the
//     failing line as a <span id="Ln" class="err">;
//   - a running job's page grows its log without a reload (live.js), each
//     line once and in order;
//   - a long log's page shows its end with the true line numbers (drawn
//     from data-n) and live.js numbers the lines it appends the same way;
//   - no page logs a console error, throws, or trips the
//     Content-Security-Policy, which the coordinator must send, strict;
//   - the index and the job page work with JavaScript off.
// Screenshots go to $RFARM_ARTIFACTS (default ./browser-artifacts).
//
// Env: RFARM (the rfarm binary, required), RFARM_ARTIFACTS,
// RFARM_BROWSER_OPTIONAL=1 (exit 77, "skipped", when chromium or
// node_modules are missing; otherwise that is a failure), KEEP=1 (keep the
// temporary directory and print the logs even on success).
// Exit: 0 all checks passed, 1 a check failed, 77 skipped.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const DEADLINE_MS = 150 * 1000; // under ctest's TIMEOUT, so cleanup runs
const FAIL_LINE = 'FAILED: widget count 7 != 9';
const TICKS = 20;               // lines of the slow job, one per 0.3 s

const RFARM = process.env.RFARM;
const ARTIFACTS = path.resolve(process.env.RFARM_ARTIFACTS ||
	'browser-artifacts');

let fails = 0;
let passes = 0;
const children = [];           // {name, proc, log}
let tmp = null;
let browser = null;

function ok(what) { passes++; console.log(`ok: ${what}`); }
function fail(what) { fails++; console.log(`FAIL: ${what}`); }
function check(what, cond, detail = '') {
	if (cond)
		ok(what);
	else
		fail(detail ? `${what}: ${detail}` : what);
	return cond;
}
// A failure the rest of the test cannot go on from.
class Fatal extends Error {}
function fatal(what) { fail(what); throw new Fatal(what); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor(ms, fn): poll fn (async) every 100 ms until it returns a truthy
// value, for at most ms; returns that value, or the last falsy one.
async function waitFor(ms, fn) {
	const end = Date.now() + ms;
	let v;
	while (!(v = await fn()) && Date.now() < end)
		await sleep(100);
	return v;
}

// ---- dependencies ----

async function loadPlaywright() {
	const optional = process.env.RFARM_BROWSER_OPTIONAL === '1';
	const missing = [];
	if (!fs.existsSync(CHROMIUM))
		missing.push(`${CHROMIUM} (Debian package chromium)`);
	let pw = null;
	try {
		pw = await import('playwright-core');
	} catch (e) {
		missing.push(`npm playwright-core in test/browser/node_modules (${e.code || e.message})`);
	}
	if (missing.length === 0)
		return pw;
	const msg = `missing ${missing.join(' and ')}; run scripts/browser-deps.sh as root`;
	if (optional) {
		console.log(`SKIP: ${msg} (RFARM_BROWSER_OPTIONAL=1)`);
		process.exit(77);
	}
	console.log(`FAIL: ${msg}`);
	process.exit(1);
}

// ---- processes we start: killed by PID on every way out ----

function start(name, args) {
	const log = path.join(tmp, `${name}.log`);
	const fd = fs.openSync(log, 'a');
	const proc = spawn(RFARM, args, { stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	const c = { name, proc, log, exited: false };
	proc.on('exit', () => { c.exited = true; });
	proc.on('error', (e) => { c.exited = true; fail(`${name}: ${e.message}`); });
	children.push(c);
	return c;
}

// Stop each child: SIGTERM, a bounded wait, then SIGKILL.
async function stopChildren() {
	for (const c of children)
		if (!c.exited)
			c.proc.kill('SIGTERM');
	for (const c of children) {
		if (!(await waitFor(10000, () => c.exited))) {
			console.log(`${c.name} (pid ${c.proc.pid}) ignored SIGTERM; killing`);
			c.proc.kill('SIGKILL');
			await waitFor(5000, () => c.exited);
		}
	}
}

// Last resort (a synchronous exit path): SIGKILL whatever still runs.
process.on('exit', () => {
	for (const c of children)
		if (!c.exited)
			try { c.proc.kill('SIGKILL'); } catch (e) { /* gone */ }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(sig, () => { console.log(`FAIL: got ${sig}`); process.exit(1); });

// ---- the coordinator's API and CLI ----

let URL_ = null;

async function api(p) {
	const r = await fetch(`${URL_}/api/v1/${p}`, { signal: AbortSignal.timeout(10000) });
	if (!r.ok)
		throw new Error(`GET /api/v1/${p}: ${r.status}`);
	return r.json();
}

async function httpStatus(p) {
	try {
		const r = await fetch(`${URL_}/${p}`, { signal: AbortSignal.timeout(10000) });
		await r.arrayBuffer();
		return r.status;
	} catch (e) {
		return 0;
	}
}

function cli(args) {
	return new Promise((resolve, reject) => {
		execFile(RFARM, args, { timeout: 30000, env: { ...process.env, RFARM_URL: URL_ } },
			(err, stdout, stderr) => {
				if (err)
					reject(new Error(`rfarm ${args.join(' ')}: ${err.message} ${stderr}`));
				else
					resolve(stdout.trim());
			});
	});
}

// submit(platform, script): one build of `sh -c script`; its job id.
async function submit(platform, script) {
	const out = await cli(['submit', '--platform', platform, '--', 'sh', '-c', script]);
	const build = Number(out.split('\n').pop());
	if (!Number.isInteger(build) || build <= 0)
		fatal(`rfarm submit printed ${JSON.stringify(out)}, not a build id`);
	const b = await api(`builds/${build}`);
	return b.jobs[0].id;
}

const FINAL = ['passed', 'failed', 'cancelled', 'error'];

async function waitJob(id, ms) {
	const j = await waitFor(ms, async () => {
		const j = await api(`jobs/${id}`);
		return FINAL.includes(j.state) ? j : null;
	});
	return j ? j.state : (await api(`jobs/${id}`)).state;
}

async function startFarm() {
	const data = path.join(tmp, 'data');
	const coord = start('coordinator', ['coordinator', '--listen', '127.0.0.1:0',
		'--data', data]);
	const urlFile = path.join(data, 'url');
	const got = await waitFor(20000, () => !coord.exited && fs.existsSync(urlFile) &&
		fs.readFileSync(urlFile, 'utf8').trim());
	if (!got)
		fatal('coordinator did not write its URL within 20 s');
	URL_ = got.replace(/\/$/, '');
	if (!(await waitFor(10000, async () => (await httpStatus('alive')) === 200)))
		fatal(`coordinator at ${URL_} not alive`);
	ok(`coordinator up at ${URL_}`);

	start('buildlet-b1', ['buildlet', '--coordinator', URL_, '--name', 'b1',
		'--workdir', path.join(tmp, 'w')]);
	const bl = await waitFor(20000, async () => {
		const v = (await api('buildlets')).buildlets || [];
		return v.find((b) => b.name === 'b1' && b.connected);
	});
	if (!bl)
		fatal('buildlet b1 did not connect within 20 s');
	ok(`buildlet b1 connected (${bl.platforms.join(' ')})`);
	return bl.platforms[0];
}

// ---- the browser ----

// Console errors, uncaught exceptions and CSP violations of a page.
async function watch(page, problems) {
	page.on('console', (m) => {
		// The browser asks for /favicon.ico by itself; the page did not.
		if (/\/favicon\.ico$/.test(m.location().url || '')) {
			console.log(`note: ${m.text()} ${m.location().url}`);
			return;
		}
		if (m.type() === 'error')
			problems.push(`console error on ${page.url()}: ${m.text()} ${m.location().url || ''}`);
	});
	page.on('pageerror', (e) => problems.push(`uncaught on ${page.url()}: ${e.message}`));
	// Chrome also logs these, but the event says exactly what was refused.
	await page.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) =>
			console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
	});
}

// The CSP a page came with: present, and no script may run from inline
// code, eval or anywhere.
function checkCsp(what, resp) {
	const csp = resp ? resp.headers()['content-security-policy'] : undefined;
	if (!check(`${what} is sent with a Content-Security-Policy`, !!csp))
		return;
	const dirs = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/))
		.filter((d) => d[0]).map((d) => [d[0].toLowerCase(), d.slice(1)]));
	const script = dirs['script-src'] || dirs['default-src'];
	check(`${what}: its CSP limits scripts (script-src or default-src)`, !!script, csp);
	if (script) {
		const loose = script.filter((s) => ["'unsafe-inline'", "'unsafe-eval'", '*',
			'http:', 'https:', 'data:'].includes(s.toLowerCase()));
		check(`${what}: its CSP allows no inline, eval or foreign scripts`,
			loose.length === 0, csp);
	}
}

async function shot(page, name) {
	const file = path.join(ARTIFACTS, name);
	await page.screenshot({ path: file, fullPage: true, timeout: 15000 });
	console.log(`screenshot: ${file}`);
}

// The index with the final states of jobs: pages are rendered off the hot
// path (debounced), so reload for a few seconds until the cells show them.
async function openIndex(page, want) {
	let resp = null;
	const cellsFinal = async () => {
		resp = await page.goto(`${URL_}/`, { timeout: 15000 });
		for (const [id, state] of Object.entries(want)) {
			const c = page.locator(`a.cell[data-job="${id}"]`);
			if ((await c.count()) !== 1 || (await c.getAttribute('data-state')) !== state)
				return false;
		}
		return true;
	};
	await waitFor(10000, cellsFinal);
	return resp;
}

async function checkCell(page, id, state) {
	const c = page.locator(`a.cell[data-job="${id}"]`);
	const n = await c.count();
	if (!check(`index has one cell for job ${id} (a.cell[data-job="${id}"])`, n === 1,
		`found ${n}; the page has: ${(await page.locator('body').innerHTML()).replace(/\s+/g, ' ').slice(0, 400)}`))
		return false;
	const cls = ((await c.getAttribute('class')) || '').split(/\s+/);
	check(`job ${id}'s cell has class s-${state}`, cls.includes(`s-${state}`),
		`class="${cls.join(' ')}"`);
	check(`job ${id}'s cell says data-state="${state}"`,
		(await c.getAttribute('data-state')) === state,
		`data-state="${await c.getAttribute('data-state')}"`);
	const href = await c.getAttribute('href');
	check(`job ${id}'s cell links to jobs/${id}.html (relative)`,
		href === `jobs/${id}.html`, `href="${href}"`);
	return true;
}

// The matrix: one passed and one failed cell; the failed one clicked
// through to its log, which has the failing line.
async function matrixAndFailedLog(ctx, passId, failId) {
	const problems = [];
	const page = await ctx.newPage();
	await watch(page, problems);
	const resp = await openIndex(page, { [passId]: 'passed', [failId]: 'failed' });
	check('GET / answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
	checkCsp('index', resp);
	await checkCell(page, passId, 'passed');
	const haveCell = await checkCell(page, failId, 'failed');
	await shot(page, 'index.png');

	// Click through. Without the contract's cell, still follow whatever
	// links to the job, so the rest of the test shows what it can (the
	// missing cell has already failed the test).
	const link = haveCell ? page.locator(`a.cell[data-job="${failId}"]`)
		: page.locator(`a[href*="jobs/${failId}"]`).first();
	if ((await link.count()) === 0)
		fatal(`no link to job ${failId} on the index`);
	const [jresp] = await Promise.all([
		page.waitForNavigation({ timeout: 15000 }),
		link.click({ timeout: 10000 }),
	]);
	const url = page.url();
	check(`the failed cell leads to ${URL_}/jobs/${failId}.html`,
		url === `${URL_}/jobs/${failId}.html`, `went to ${url}`);
	checkCsp('job page', jresp);

	const log = page.locator('#log');
	if (check(`job page has <pre id="log" data-job="${failId}">`,
		(await log.count()) === 1 && (await log.getAttribute('data-job')) === String(failId))) {
		check('#log says data-state="failed"',
			(await log.getAttribute('data-state')) === 'failed',
			`data-state="${await log.getAttribute('data-state')}"`);
		const line = page.locator('#log span', { hasText: FAIL_LINE });
		if (check(`the log shows the failing line "${FAIL_LINE}" as a span`,
			(await line.count()) === 1, `${await line.count()} spans have it`)) {
			const cls = await line.getAttribute('class');
			const id = await line.getAttribute('id');
			check('the failing line is marked as stderr (class err)', cls === 'err',
				`class="${cls}"`);
			check('the failing line has a line anchor (id Ln)', /^L[1-9][0-9]*$/.test(id || ''),
				`id="${id}"`);
			const out = page.locator('#log span.out', { hasText: 'step 3 of 5' });
			check('stdout lines are marked as stdout (class out)', (await out.count()) === 1);
			await line.scrollIntoViewIfNeeded({ timeout: 5000 });
		}
	} else {
		const text = await page.locator('body').innerText();
		check(`(no #log) the page at least shows "${FAIL_LINE}"`, text.includes(FAIL_LINE));
	}
	await shot(page, 'failed-job-log.png');

	const raw = await fetch(`${URL_}/jobs/${failId}.log`, { signal: AbortSignal.timeout(10000) });
	const rawText = await raw.text();
	check(`jobs/${failId}.log is the raw log with the failing line`,
		raw.status === 200 && rawText.includes(FAIL_LINE), `status ${raw.status}`);
	await page.close();
	return problems;
}

// A running job's page follows its log: more lines without a reload, each
// once and in order.
async function liveLog(ctx, platform) {
	const problems = [];
	const script = `i=1; while [ $i -le ${TICKS} ]; do echo "tick $i"; i=$((i+1)); sleep 0.3; done`;
	const id = await submit(platform, script);
	const running = await waitFor(15000, async () => (await api(`jobs/${id}`)).state === 'running');
	if (!running)
		fatal(`slow job ${id} is not running after 15 s`);
	const served = await waitFor(5000, async () => (await httpStatus(`jobs/${id}.html`)) === 200);
	if (!check(`the running job's page jobs/${id}.html is served`, served,
		`GET /jobs/${id}.html answers ${await httpStatus(`jobs/${id}.html`)}; the job pages and live.js are needed`))
		return problems;

	const page = await ctx.newPage();
	await watch(page, problems);
	let navigations = 0;
	page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
	const resp = await page.goto(`${URL_}/jobs/${id}.html`, { timeout: 15000 });
	checkCsp('running job page', resp);
	const log = page.locator('#log');
	if (!check(`running job page has <pre id="log" data-job="${id}">`,
		(await log.count()) === 1 && (await log.getAttribute('data-job')) === String(id)))
		return problems;
	const lines = page.locator('#log span');
	// live.js reloads the page once when the job ends: a read that meets
	// that navigation is tried again on the new page.
	const tickLines = async () => {
		for (let i = 0; i < 5; i++) {
			try {
				return (await lines.allInnerTexts()).map((t) => t.trim())
					.filter((t) => t.startsWith('tick'));
			} catch (e) {
				if (!/context was destroyed|navigat/i.test(String(e)))
					throw e;
				await page.waitForLoadState('load').catch(() => {});
			}
		}
		return [];
	};
	const want = Array.from({ length: TICKS }, (_, i) => `tick ${i + 1}`);
	const first = await lines.count();
	const grown = await waitFor(4000, async () => (await lines.count()) >= first + 3);
	const live = await tickLines();
	const later = await lines.count();
	check(`a running job's log grows in the page without reload (${first} -> ${later} lines)`,
		grown && navigations === 1, `${navigations} loads`);
	// What live.js appended to the rendered lines: no line twice, none lost.
	check('the growing log has each line once, in order',
		JSON.stringify(live) === JSON.stringify(want.slice(0, live.length)),
		`got [${live.join(', ')}]`);
	await shot(page, 'running-job-log.png');

	// Meanwhile the index shows the job running, and its cell turns to
	// passed when it ends, without a reload.
	const ix = await ctx.newPage();
	await watch(ix, problems);
	let ixLoads = 0;
	ix.on('framenavigated', (f) => { if (f === ix.mainFrame()) ixLoads++; });
	await ix.goto(`${URL_}/`, { timeout: 15000 });
	const cell = ix.locator(`a.cell[data-job="${id}"]`);
	const before = (await cell.count()) === 1 ? await cell.getAttribute('data-state') : null;

	// Once the job ends, the page has every line exactly once, in order.
	const state = await waitJob(id, 20000);
	check(`slow job ${id} passed`, state === 'passed', state);
	if (check(`the index shows job ${id} unfinished while it runs`,
		['running', 'dispatched'].includes(before), `data-state="${before}"`)) {
		const after = await waitFor(10000, async () =>
			(await cell.getAttribute('data-state')) === 'passed');
		check(`its cell turns to passed without a reload`, after && ixLoads === 1,
			`data-state="${await cell.getAttribute('data-state')}", ${ixLoads} loads`);
	}
	await ix.close();
	const last = page.locator('#log span', { hasText: new RegExp(`^\\s*tick ${TICKS}\\s*$`) });
	await waitFor(10000, async () => (await last.count()) > 0);
	// Read the final page only once live.js has settled on it.
	const fin = await waitFor(10000, async () =>
		(await log.getAttribute('data-state').catch(() => null)) === 'passed');
	const ticks = await tickLines();
	check('the finished job\'s page has every line once, in order',
		JSON.stringify(ticks) === JSON.stringify(want), `got [${ticks.join(', ')}]`);
	// live.js may reload once when the job ends, for the final page.
	check('at most one reload, once the job ended', navigations <= 2, `${navigations} loads`);
	check('the job page ends up saying data-state="passed"', fin,
		`data-state="${await log.getAttribute('data-state')}"`);
	await page.close();
	return problems;
}

// A long log's page shows only its end, numbered as in the whole log,
// and live.js follows it on from there with the right numbers.
async function longLog(ctx, platform) {
	const problems = [];
	const ROWS = 25000; // over the page's 20,000 lines
	const script = `seq -f 'row %05.0f' 1 ${ROWS}; i=1; while [ $i -le 10 ]; do echo "more $i"; i=$((i+1)); sleep 0.5; done`;
	const id = await submit(platform, script);
	const tailed = await waitFor(15000, async () => {
		const r = await fetch(`${URL_}/jobs/${id}.html`, { signal: AbortSignal.timeout(5000) });
		const t = await r.text();
		return t.includes('id="skipped"') && t.includes('data-state="running"');
	});
	if (!check(`the running long job's page shows the end of its log`, tailed))
		return problems;
	const page = await ctx.newPage();
	await watch(page, problems);
	await page.goto(`${URL_}/jobs/${id}.html`, { timeout: 15000 });
	const number = async (loc) => loc.locator('a.ln').evaluate(
		(a) => getComputedStyle(a, '::before').content.replace(/"/g, ''));
	const first = page.locator('#log > span').first();
	const firstId = await first.getAttribute('id');
	const n = Number((firstId || '').slice(1));
	check(`the first line shown is not the first (${firstId})`, n > 1);
	const text = (await first.innerText()).trim();
	check(`it is row ${n} of the log`, text === `row ${String(n).padStart(5, '0')}`, `"${text}"`);
	const shown = await number(first);
	check(`its number is drawn as ${n}`, shown === String(n), `"${shown}"`);
	check('the page says what it leaves out', (await page.locator('#skipped').count()) === 1);
	// Lines live.js appends keep the true numbers.
	const more = page.locator('#log > span', { hasText: /^\s*more 8\s*$/ });
	if (check('live.js appends the lines that follow', await waitFor(15000, async () =>
		(await more.count().catch(() => 0)) > 0))) {
		const mid = await more.first().getAttribute('id').catch(() => null);
		check(`"more 8" is line ${ROWS + 8}`, mid === `L${ROWS + 8}`, `id="${mid}"`);
		const drawn = await number(more.first()).catch(() => '');
		check(`and is numbered ${ROWS + 8}`, drawn === String(ROWS + 8), `"${drawn}"`);
	}
	await waitJob(id, 20000);
	await page.close();
	return problems;
}

// Without JavaScript the index and the job page still show what matters.
async function noScript(browser, passId, failId) {
	const ctx = await browser.newContext({ javaScriptEnabled: false });
	try {
		const page = await ctx.newPage();
		await page.goto(`${URL_}/`, { timeout: 15000 });
		check('without JavaScript the index shows the cells',
			(await page.locator(`a.cell[data-job="${passId}"], a.cell[data-job="${failId}"]`).count()) === 2);
		await page.goto(`${URL_}/jobs/${failId}.html`, { timeout: 15000 });
		check('without JavaScript the job page shows the failing line',
			(await page.locator('#log span', { hasText: FAIL_LINE }).count()) === 1);
	} finally {
		await ctx.close();
	}
}

// A sanitizer report in a process we ran fails the test (as in e2e).
function sanitizerReports() {
	for (const c of children) {
		let text = '';
		try { text = fs.readFileSync(c.log, 'utf8'); } catch (e) { continue; }
		const m = text.match(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/);
		if (m)
			fail(`sanitizer report in ${c.name}.log:\n${text.slice(m.index, m.index + 3000)}`);
	}
}

async function main() {
	if (!RFARM)
		fatal('set RFARM to the rfarm binary');
	const pw = await loadPlaywright();
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'rfarm-browser.'));

	const platform = await startFarm();
	const passId = await submit(platform, 'for i in 1 2 3 4 5; do echo "step $i of 5"; done; echo "all good"');
	const failId = await submit(platform,
		`for i in 1 2 3; do echo "step $i of 5"; done; echo "${FAIL_LINE}" >&2; exit 1`);
	const sp = await waitJob(passId, 60000);
	const sf = await waitJob(failId, 60000);
	check(`job ${passId} passed`, sp === 'passed', sp);
	check(`job ${failId} failed`, sf === 'failed', sf);

	browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'],
		headless: true, timeout: 30000 });
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	ctx.setDefaultTimeout(15000);
	let problems = await matrixAndFailedLog(ctx, passId, failId);
	problems = problems.concat(await liveLog(ctx, platform));
	problems = problems.concat(await longLog(ctx, platform));
	await noScript(browser, passId, failId);
	check('no console errors, uncaught exceptions or CSP violations', problems.length === 0,
		'\n  ' + problems.join('\n  '));
}

const watchdog = setTimeout(() => {
	console.log(`FAIL: the test took over ${DEADLINE_MS / 1000} s`);
	process.exit(1); // the exit handler kills what we started
}, DEADLINE_MS);

try {
	await main();
} catch (e) {
	if (!(e instanceof Fatal))
		fail(`${e.stack || e}`);
} finally {
	if (browser)
		await browser.close().catch(() => {});
	await stopChildren();
	sanitizerReports();
	clearTimeout(watchdog);
}
if (tmp && (fails > 0 || process.env.KEEP)) {
	console.log(`--- logs kept in ${tmp} ---`);
	for (const c of children) {
		const text = fs.existsSync(c.log) ? fs.readFileSync(c.log, 'utf8') : '';
		console.log(`== ${c.log}\n${text.split('\n').slice(-30).join('\n')}`);
	}
} else if (tmp) {
	fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`browser_dashboard: ${passes} checks passed, ${fails} failed`);
process.exit(fails > 0 ? 1 : 0);
