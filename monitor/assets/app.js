/* Tandem — MIT licence. The dashboard: hash routes, one poller, keyed DOM updates (no flicker). */
(function () {
'use strict';

/*
 * How it works: every view is a function that builds its DOM once and returns
 * { refresh(), destroy() }. One poller calls the active view's refresh() every POLL_MS
 * (never two at once); refresh() fetches JSON and updates the existing nodes in place
 * (keyed table rows, text only when it changed, chart data via setData), so a live page
 * does not flicker. When the API cannot be reached (a failover, monitord restarting) a
 * banner says so and the poller keeps retrying; the last data stays on screen.
 */

const POLL_MS = 2000;
const TIMEOUT_MS = 5000;
const PAGE = 50;
const TOKEN_KEY = 'tandem.token';
const WHO_KEY = 'tandem.who';

/* DOM helpers. */

function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const k in attrs || {}) {
		const v = attrs[k];
		if (v === undefined || v === null || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	for (const kid of kids.flat()) {
		if (kid === null || kid === undefined || kid === false)
			continue;
		el.appendChild(typeof kid === 'string' || typeof kid === 'number' ?
		    document.createTextNode(String(kid)) : kid);
	}
	return el;
}

function setText(el, s) {
	s = s === null || s === undefined ? '' : String(s);
	if (el.textContent !== s)
		el.textContent = s;
}

function setClass(el, c) {
	if (el.className !== c)
		el.className = c;
}

function setAttr(el, k, v) {
	if (el.getAttribute(k) !== v)
		el.setAttribute(k, v);
}

function show(el, on) {
	el.classList.toggle('hidden', !on);
}

const enc = encodeURIComponent;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const natCmp = (a, b) => collator.compare(a, b);

/* Formatting. */

function fmtInt(n) {
	return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
}

function fmtNum(n, d) {
	if (n === null || n === undefined || Number.isNaN(n))
		return '–';
	return n.toFixed(d === undefined ? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2) : d);
}

function fmtPct(r) {
	if (r === null || r === undefined)
		return '–';
	const p = r * 100;
	return (p === 0 ? '0' : p < 0.1 ? '<0.1' : p.toFixed(p < 10 ? 1 : 0)) + ' %';
}

function fmtMs(ms) {
	if (ms === null || ms === undefined || ms < 0)
		return '–';
	if (ms === 0)
		return '0 ms';
	if (ms < 1)
		return (ms * 1000).toFixed(0) + ' µs';
	if (ms < 1000)
		return ms.toFixed(ms < 10 ? 1 : 0) + ' ms';
	const s = ms / 1000;
	if (s < 60)
		return s.toFixed(s < 10 ? 2 : 1) + ' s';
	const m = Math.floor(s / 60);
	if (m < 60)
		return m + ' m ' + Math.floor(s % 60) + ' s';
	const hr = Math.floor(m / 60);
	if (hr < 48)
		return hr + ' h ' + (m % 60) + ' m';
	return Math.floor(hr / 24) + ' d ' + (hr % 24) + ' h';
}

const fmtUs = (us) => us === null || us === undefined ? '–' : fmtMs(us / 1000);
const fmtSecs = (s) => s === null || s === undefined ? '–' : fmtMs(s * 1000);

function fmtAgo(t) {
	if (!t)
		return 'never';
	const d = Date.now() - t;
	return d < 1000 ? 'just now' : fmtMs(d) + ' ago';
}

function pad(n, w) {
	return String(n).padStart(w || 2, '0');
}

function fmtTime(t, withMs) {
	if (!t)
		return '–';
	const d = new Date(t);
	return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
	    (withMs ? '.' + pad(d.getMilliseconds(), 3) : '');
}

function fmtDateTime(t) {
	if (!t)
		return '–';
	const d = new Date(t);
	return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
	    fmtTime(t);
}

/* Change of now against then, as "+12 %" (null when there is nothing to compare). */
function fmtDelta(now, then) {
	if (!then || now === null || now === undefined)
		return null;
	const p = (now - then) / then * 100;
	return (p >= 0 ? '+' : '') + p.toFixed(Math.abs(p) < 10 ? 1 : 0) + ' %';
}

/* The API. */

class ApiError extends Error {
	constructor(status, msg, param) {
		super(msg);
		this.status = status;
		this.param = param;
	}
}

const conn = { lastOk: 0, down: false, since: 0, failures: 0, lastError: '' };

/*
 * fetch() with a timeout; resolves to the parsed JSON of a 2xx, else throws ApiError
 * (status 0 when the server could not be reached). Network errors, timeouts and 5xx
 * mark the API down (the banner); any answer below 500 marks it up.
 */
async function api(path, opts) {
	const ctl = new AbortController();
	const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
	const o = Object.assign({ cache: 'no-store', signal: ctl.signal }, opts || {});
	o.headers = Object.assign({ Accept: 'application/json' }, (opts || {}).headers || {});
	let res, body = null;
	try {
		res = await fetch(path, o);
		const t = await res.text();
		try {
			body = t ? JSON.parse(t) : null;
		} catch (e) {
			body = null;
		}
	} catch (e) {
		clearTimeout(timer);
		const err = new ApiError(0, e.name === 'AbortError' ?
		    'no answer within ' + TIMEOUT_MS / 1000 + ' s' : 'cannot connect');
		markDown(err);
		throw err;
	}
	clearTimeout(timer);
	if (res.status >= 500)
		markDown(new ApiError(res.status, (body && body.error) || res.statusText));
	else
		markUp();
	if (!res.ok)
		throw new ApiError(res.status, (body && body.error) || res.statusText,
		    body && body.param);
	return body;
}

function markUp() {
	conn.lastOk = Date.now();
	conn.failures = 0;
	if (conn.down) {
		conn.down = false;
		renderBanner();
	}
}

function markDown(err) {
	conn.failures++;
	conn.lastError = (err.status ? 'HTTP ' + err.status + ': ' : '') + err.message;
	if (!conn.down) {
		conn.down = true;
		conn.since = Date.now();
	}
	renderBanner();
}

function renderBanner() {
	const b = document.getElementById('banner');
	document.body.classList.toggle('stale', conn.down);
	if (!conn.down) {
		show(b, false);
		return;
	}
	setText(b, 'The monitor API at ' + location.host + ' is unreachable (' + conn.lastError +
	    ') — a failover may be in progress. Retrying every ' + POLL_MS / 1000 + ' s' +
	    (conn.failures > 1 ? ' (attempt ' + conn.failures + ')' : '') + '. ' +
	    (conn.lastOk ? 'Showing data from ' + fmtTime(conn.lastOk) + '.' : 'No data yet.'));
	show(b, true);
}

/* Applications known to the API, for pickers; refreshed at most every 10 s. */
const appList = { names: [], at: 0, pending: null };

async function appNames() {
	if (Date.now() - appList.at < 10000 || appList.pending)
		return appList.names;
	appList.pending = api('/api/v1/apps').then((r) => {
		appList.names = r.apps.map((a) => a.app).sort(natCmp);
		appList.at = Date.now();
	}).catch(() => {}).finally(() => { appList.pending = null; });
	await appList.pending;
	return appList.names;
}

function appDatalist(id) {
	const dl = h('datalist', { id: id });
	appNames().then((names) => {
		for (const n of names)
			dl.appendChild(h('option', { value: n }));
	});
	return dl;
}

/* Tables: keyed rows, updated in place. */

/*
 * cols: [{ h: header, cls, sort: key, cell(td, item) }]. key(item) must be unique.
 * onSort(key) is called when a sortable header is clicked.
 */
function makeTable(cols, key, opts) {
	opts = opts || {};
	const thead = h('thead', null, h('tr', null, cols.map((c) => {
		const th = h('th', { class: (c.cls || '') + (c.sort ? ' sortable' : ''),
		    title: c.title });
		th.textContent = c.h;
		if (c.sort && opts.onSort)
			th.addEventListener('click', () => opts.onSort(c.sort));
		c.th = th;
		return th;
	})));
	const tbody = h('tbody');
	const table = h('table', { class: 'grid ' + (opts.cls || '') }, thead, tbody);
	const empty = h('p', { class: 'empty hidden', text: opts.empty || 'Nothing to show.' });
	const wrap = h('div', { class: 'table-wrap' }, table, empty);
	let rows = new Map();

	function render(items, sortKey, dir) {
		for (const c of cols)
			if (c.sort)
				setClass(c.th, (c.cls || '') + ' sortable' + (c.sort === sortKey ?
				    (dir > 0 ? ' asc' : ' desc') : ''));
		const next = new Map();
		let prev = null;
		for (const it of items) {
			const k = key(it);
			let tr = rows.get(k);
			if (!tr) {
				tr = h('tr', null, cols.map((c) => h('td', { class: c.cls })));
				if (opts.onRow)
					opts.onRow(tr, it);
			}
			tr._item = it;
			cols.forEach((c, i) => c.cell(tr.children[i], it, tr));
			if (opts.rowClass)
				setClass(tr, opts.rowClass(it));
			next.set(k, tr);
			const want = prev ? prev.nextSibling : tbody.firstChild;
			if (want !== tr)
				tbody.insertBefore(tr, want);
			prev = tr;
		}
		for (const [k, tr] of rows)
			if (!next.has(k))
				tr.remove();
		rows = next;
		show(empty, items.length === 0);
	}
	return { el: wrap, render: render, tbody: tbody };
}

/* Cell renderers. */
const cText = (f) => (td, it) => setText(td, f(it));

function cLink(f, href) {
	return (td, it) => {
		let a = td.firstChild;
		if (!a) {
			a = h('a');
			td.appendChild(a);
		}
		setText(a, f(it));
		setAttr(a, 'href', href(it));
	};
}

function cBadge(f, kind) {
	return (td, it) => {
		let s = td.firstChild;
		if (!s) {
			s = h('span');
			td.appendChild(s);
		}
		const v = f(it) || '–';
		setText(s, v);
		setClass(s, 'badge ' + (kind ? kind(it, v) : v));
	};
}

/* A bar for a value against max, with the value as text. */
function cBar(f, max, fmt) {
	return (td, it) => {
		if (!td.firstChild)
			td.append(h('span', { class: 'bar' }, h('span', { class: 'fill' })), h('span',
			    { class: 'barval' }));
		const v = f(it) || 0, m = max() || 1;
		td.firstChild.firstChild.style.width = Math.min(100, v / m * 100).toFixed(1) + '%';
		setText(td.lastChild, fmt(v));
	};
}

function attrChips(attrs) {
	return Object.keys(attrs || {}).sort().map((k) => k + '=' + attrs[k]).join('  ');
}

/* A pager over a sorted, filtered array. */
function makePager(onChange) {
	const info = h('span', { class: 'pageinfo' });
	const prev = h('button', { type: 'button', class: 'small', text: '‹ Prev',
	    onclick: () => onChange(-1) });
	const next = h('button', { type: 'button', class: 'small', text: 'Next ›',
	    onclick: () => onChange(1) });
	return {
		el: h('div', { class: 'pager' }, prev, info, next),
		update(page, total) {
			const pages = Math.max(1, Math.ceil(total / PAGE));
			setText(info, total === 0 ? '0 of 0' : (page * PAGE + 1) + '–' +
			    Math.min(total, (page + 1) * PAGE) + ' of ' + fmtInt(total) +
			    ' (page ' + (page + 1) + ' of ' + pages + ')');
			prev.disabled = page === 0;
			next.disabled = page >= pages - 1;
		},
	};
}

function panel(title, ...kids) {
	const t = h('h2', { text: title });
	const p = h('section', { class: 'panel' }, t, ...kids);
	p.title2 = t;
	return p;
}

function errorLine() {
	return h('p', { class: 'error hidden' });
}

function showError(el, e) {
	if (!e || e.status === 0) {	/* unreachable: the banner says so */
		show(el, false);
		return;
	}
	setText(el, e.status ? e.message + ' (HTTP ' + e.status + ')' : e.message);
	show(el, true);
}

/* Persistent per-view state (kept while navigating between views). */
const ui = {
	overview: { q: '', health: 'all', sort: 'health', dir: 1, page: 0 },
	queues: { app: '', range: '15m' },
	perf: { range: '1h', compare: '1d', sort: 'p99_us', dir: -1, page: 0, app: '', job: '' },
	logs: { app: '', level: '', q: '', range: '1h' },
};

const HEALTH_RANK = { warning: 0, silent: 1, ok: 2 };

/* Overview: every application with its health; paged, searchable, sortable. */
function viewOverview(root) {
	const st = ui.overview;
	const tiles = {};
	const tileDefs = [
		['apps', 'Applications', ''], ['ok', 'Healthy', 'ok'], ['warning', 'Warning',
		'warning'], ['silent', 'Silent', 'silent'], ['growing', 'Growing queues', 'growing'],
		['stuck', 'Stuck transactions', 'stuck'], ['running', 'Running transactions', ''],
	];
	const tileRow = h('div', { class: 'tiles' }, tileDefs.map(([k, label, kind]) => {
		const v = h('div', { class: 'tile-value', text: '…' });
		tiles[k] = h('div', { class: 'tile ' + kind, id: 'tile-' + k }, v,
		    h('div', { class: 'tile-label', text: label }));
		tiles[k].v = v;
		return tiles[k];
	}));

	const growErr = errorLine();
	const growTable = makeTable([
		{ h: 'Application', cell: cLink((q) => q.app, (q) => '#/queues/' + enc(q.app)) },
		{ h: 'Queue', cell: cText((q) => q.queue) },
		{ h: 'Verdict', cell: cBadge((q) => q.verdict) },
		{ h: 'Depth', cls: 'num', cell: cText((q) => fmtInt(q.depth)) },
		{ h: 'Growth', cls: 'num', cell: cText((q) => '+' + fmtNum(q.slope_per_s) + '/s') },
	], (q) => q.app + '\u0000' + q.queue, { cls: 'compact', empty: 'No queue is growing.',
	    rowClass: () => 'alarming', onRow: (tr, q) => { tr.dataset.app = q.app;
	    tr.dataset.queue = q.queue; } });
	const growMore = h('p', { class: 'muted' });
	const growPanel = panel('Growing queues', growErr, growTable.el, growMore);
	growPanel.id = 'growing';

	const search = h('input', { type: 'search', placeholder: 'Filter applications…',
	    value: st.q, id: 'app-filter', 'aria-label': 'filter applications' });
	const health = h('select', { id: 'health-filter', 'aria-label': 'health' },
	    ['all', 'warning', 'silent', 'ok'].map((v) => h('option', { value: v,
	    text: v === 'all' ? 'any health' : v, selected: st.health === v })));
	const pager = makePager((d) => { st.page += d; draw(); });
	const appsErr = errorLine();
	let apps = [];
	const sortBy = (k) => {
		if (st.sort === k)
			st.dir = -st.dir;
		else {
			st.sort = k;
			st.dir = k === 'app' || k === 'health' ? 1 : -1;
		}
		st.page = 0;
		draw();
	};
	const maxEps = () => apps.reduce((m, a) => Math.max(m, a.events_per_s || 0), 0);
	const table = makeTable([
		{ h: 'Health', sort: 'health', cell: cBadge((a) => a.health) },
		{ h: 'Application', sort: 'app', cell: cLink((a) => a.app,
		    (a) => '#/queues/' + enc(a.app)) },
		{ h: 'Events/s', sort: 'events_per_s', cls: 'num', cell: cBar((a) => a.events_per_s,
		    maxEps, (v) => fmtNum(v)) },
		{ h: 'Jobs/s', sort: 'jobs_per_s', cls: 'num', cell: cText((a) => fmtNum(a.jobs_per_s)) },
		{ h: 'Job errors', sort: 'job_error_rate', cls: 'num',
		    cell: cText((a) => fmtPct(a.job_error_rate)) },
		{ h: 'Log errors', sort: 'log_error_rate', cls: 'num',
		    cell: cText((a) => fmtPct(a.log_error_rate)) },
		{ h: 'Running', sort: 'running_txns', cls: 'num', cell: cLink((a) =>
		    fmtInt(a.running_txns), (a) => '#/txns?app=' + enc(a.app)) },
		{ h: 'Stuck', sort: 'stuck_txns', cls: 'num', cell: (td, a) => {
			cLink(() => fmtInt(a.stuck_txns), () => '#/txns?state=stuck&app=' +
			    enc(a.app))(td, a);
			td.classList.toggle('hot', a.stuck_txns > 0);
		} },
		{ h: 'Worst queue', sort: 'worst_queue_verdict', cell: (td, a) => {
			if (!td.firstChild)
				td.append(h('span'), h('span', { class: 'qname' }));
			const v = a.worst_queue_verdict || 'not-enough-data';
			setText(td.firstChild, v);
			setClass(td.firstChild, 'badge ' + v);
			setText(td.lastChild, a.worst_queue ? ' ' + a.worst_queue : '');
		} },
		{ h: 'Last seen', sort: 'last_seen_ms', cls: 'num', cell: cText((a) =>
		    fmtAgo(a.last_seen_ms)) },
	], (a) => a.app, { onSort: sortBy, empty: 'No application matches.',
	    onRow: (tr, a) => { tr.dataset.app = a.app; },
	    rowClass: (a) => 'health-' + a.health });

	search.addEventListener('input', () => { st.q = search.value; st.page = 0; draw(); });
	health.addEventListener('change', () => { st.health = health.value; st.page = 0; draw(); });
	const appsPanel = panel('Applications', h('div', { class: 'controls' }, search, health,
	    h('span', { class: 'muted', text: 'click a column to sort' }), pager.el), appsErr,
	    table.el);
	appsPanel.id = 'apps';
	root.append(tileRow, h('div', { class: 'cols' }, appsPanel, growPanel));

	const VERDICT_RANK = { growing: 0, stalled: 1, 'not-enough-data': 3, draining: 4, ok: 5 };
	function cmp(a, b) {
		let r;
		switch (st.sort) {
		case 'app':
			r = natCmp(a.app, b.app);
			break;
		case 'health':
			r = (HEALTH_RANK[a.health] ?? 3) - (HEALTH_RANK[b.health] ?? 3) ||
			    (b.stuck_txns - a.stuck_txns) || 0;
			break;
		case 'worst_queue_verdict':
			r = (VERDICT_RANK[a.worst_queue_verdict] ?? 2) -
			    (VERDICT_RANK[b.worst_queue_verdict] ?? 2);
			break;
		default:
			r = (a[st.sort] || 0) - (b[st.sort] || 0);
		}
		return r * st.dir || natCmp(a.app, b.app);
	}

	function draw() {
		const q = st.q.trim().toLowerCase();
		const rows = apps.filter((a) => (st.health === 'all' || a.health === st.health) &&
		    (!q || a.app.toLowerCase().includes(q) ||
		    (a.worst_queue || '').toLowerCase().includes(q)));
		rows.sort(cmp);
		const pages = Math.max(1, Math.ceil(rows.length / PAGE));
		st.page = Math.max(0, Math.min(st.page, pages - 1));
		pager.update(st.page, rows.length);
		table.render(rows.slice(st.page * PAGE, (st.page + 1) * PAGE), st.sort, st.dir);
		setText(appsPanel.title2, 'Applications' + (rows.length !== apps.length ?
		    ' (' + fmtInt(rows.length) + ' of ' + fmtInt(apps.length) + ')' : ''));
	}

	return {
		async refresh() {
			const [ra, rg] = await Promise.allSettled([api('/api/v1/apps'),
			    api('/api/v1/queues/growing')]);
			if (ra.status === 'fulfilled') {
				apps = ra.value.apps || [];
				showError(appsErr, null);
				const c = { ok: 0, warning: 0, silent: 0 };
				let stuck = 0, running = 0;
				for (const a of apps) {
					c[a.health] = (c[a.health] || 0) + 1;
					stuck += a.stuck_txns || 0;
					running += a.running_txns || 0;
				}
				setText(tiles.apps.v, fmtInt(apps.length));
				setText(tiles.ok.v, fmtInt(c.ok));
				setText(tiles.warning.v, fmtInt(c.warning));
				setText(tiles.silent.v, fmtInt(c.silent));
				setText(tiles.stuck.v, fmtInt(stuck));
				setText(tiles.running.v, fmtInt(running));
				tiles.warning.classList.toggle('lit', c.warning > 0);
				tiles.silent.classList.toggle('lit', c.silent > 0);
				tiles.stuck.classList.toggle('lit', stuck > 0);
				draw();
			} else
				showError(appsErr, ra.reason);
			if (rg.status === 'fulfilled') {
				const qs = (rg.value.queues || []).slice().sort((a, b) =>
				    b.slope_per_s - a.slope_per_s);
				showError(growErr, null);
				setText(tiles.growing.v, fmtInt(qs.length));
				tiles.growing.classList.toggle('lit', qs.length > 0);
				growTable.render(qs.slice(0, 12));
				setText(growMore, qs.length > 12 ? 'and ' + (qs.length - 12) +
				    ' more on the Queues page; window ' + fmtMs(rg.value.window_ms) :
				    'Trend over the last ' + fmtMs(rg.value.window_ms) + '.');
			} else
				showError(growErr, rg.reason);
		},
	};
}

/* uPlot chart of one series, or a note when the library is not installed. */
function makeChart(el, label, color) {
	if (typeof window.uPlot !== 'function') {
		el.appendChild(h('p', { class: 'muted', text: 'Charts need monitor/assets/vendor ' +
		    '(run monitor/assets/setup.sh).' }));
		return { setData() {}, destroy() {} };
	}
	const width = () => Math.max(240, el.clientWidth - 4);
	const u = new window.uPlot({
		width: width(), height: 170,
		scales: { x: { time: true } },
		legend: { show: false },
		cursor: { drag: { x: false, y: false } },
		series: [{}, { label: label, stroke: color, width: 1.5, fill: color + '22',
		    points: { show: false },
		    value: (u, v) => v === null ? '–' : fmtInt(v) }],
		axes: [{ stroke: '#64748b', grid: { stroke: '#e2e8f0' } },
		    { stroke: '#64748b', size: 56, grid: { stroke: '#e2e8f0' } }],
	}, [[], []], el);
	const ro = new ResizeObserver(() => u.setSize({ width: width(), height: 170 }));
	ro.observe(el);
	return {
		setData(xs, ys) {
			u.setData([xs, ys]);
		},
		destroy() {
			ro.disconnect();
			u.destroy();
		},
	};
}

const RANGES = { '5m': 300000, '15m': 900000, '1h': 3600000, '6h': 21600000, '24h': 86400000 };

function rangeSelect(val, onChange, choices) {
	const s = h('select', { 'aria-label': 'time range' }, (choices || Object.keys(RANGES))
	    .map((k) => h('option', { value: k, text: 'last ' + k, selected: k === val })));
	s.addEventListener('change', () => onChange(s.value));
	return s;
}

/* Queues: the growing list, and one application's queues with live depth charts. */
function viewQueues(root, r) {
	const st = ui.queues;
	if (r.parts[1])
		st.app = r.parts[1];
	const growErr = errorLine();
	const growTable = makeTable([
		{ h: 'Application', cell: cLink((q) => q.app, (q) => '#/queues/' + enc(q.app)) },
		{ h: 'Queue', cell: cText((q) => q.queue) },
		{ h: 'Depth', cls: 'num', cell: cText((q) => fmtInt(q.depth)) },
		{ h: 'Growth', cls: 'num', cell: cText((q) => '+' + fmtNum(q.slope_per_s) + '/s') },
		{ h: 'Limit in', cls: 'num', title: 'estimated time to the queue\'s limit',
		    cell: cText((q) => fmtSecs(q.eta_limit_s)) },
	], (q) => q.app + '\u0000' + q.queue, { cls: 'compact', empty: 'No queue is growing.',
	    rowClass: (q) => 'alarming' + (q.app === st.app ? ' selected' : ''),
	    onRow: (tr, q) => { tr.dataset.app = q.app; tr.dataset.queue = q.queue; } });
	const growPanel = panel('Growing queues', growErr, h('div', { class: 'scroll' },
	    growTable.el));
	growPanel.id = 'growing';

	const input = h('input', { type: 'search', list: 'q-apps', value: st.app,
	    placeholder: 'application', 'aria-label': 'application' });
	const form = h('form', { class: 'controls' }, h('label', { text: 'Application ' }), input,
	    appDatalist('q-apps'), h('button', { type: 'submit', text: 'Show' }),
	    rangeSelect(st.range, (v) => { st.range = v; refresh(); }, ['5m', '15m', '1h', '6h']));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		location.hash = '#/queues/' + enc(input.value.trim());
	});
	const appErr = errorLine();
	const cards = h('div', { class: 'cards' });
	const appTitle = h('h2');
	const appPanel = h('section', { class: 'panel', id: 'app-queues' }, appTitle, form,
	    appErr, cards);
	root.append(h('div', { class: 'cols wide-left' }, appPanel, growPanel));

	const charts = new Map();

	function card(name) {
		let c = charts.get(name);
		if (c)
			return c;
		const title = h('h3', null, h('span', { class: 'qname', text: name }), ' ',
		    h('span', { class: 'badge' }));
		const stats = h('dl', { class: 'stats' });
		const chartEl = h('div', { class: 'chart' });
		const el = h('div', { class: 'card', dataset: { queue: name } }, title, stats, chartEl);
		cards.appendChild(el);
		c = { el: el, badge: title.lastChild, stats: stats, chart: makeChart(chartEl,
		    'depth', '#2563eb'), cells: {} };
		charts.set(name, c);
		return c;
	}

	function stat(c, k, label, v) {
		if (!c.cells[k]) {
			const dd = h('dd');
			c.stats.append(h('dt', { text: label }), dd);
			c.cells[k] = dd;
		}
		setText(c.cells[k], v);
	}

	async function refresh() {
		const growing = api('/api/v1/queues/growing').then((g) => {
			showError(growErr, null);
			growTable.render((g.queues || []).slice().sort((a, b) =>
			    b.slope_per_s - a.slope_per_s).slice(0, 500));
			if (!st.app && g.queues && g.queues.length)
				st.app = g.queues[0].app;
		}, (e) => showError(growErr, e));
		if (!st.app)
			await growing;
		setText(appTitle, st.app ? 'Queues of ' + st.app : 'Queues');
		if (!st.app) {
			await growing;
			return;
		}
		const app = st.app;
		let list;
		try {
			list = await api('/api/v1/apps/' + enc(app) + '/queues');
			showError(appErr, null);
		} catch (e) {
			showError(appErr, e);
			await growing;
			return;
		}
		if (app !== st.app)
			return;
		const queues = (list.queues || []).slice().sort((a, b) => natCmp(a.queue, b.queue));
		const seen = new Set();
		const from = '-' + st.range;
		await Promise.all(queues.map(async (q) => {
			seen.add(q.queue);
			const c = card(q.queue);
			c.el.classList.toggle('alarming', q.verdict === 'growing' ||
			    q.verdict === 'stalled');
			setText(c.badge, q.verdict);
			setClass(c.badge, 'badge ' + q.verdict);
			stat(c, 'depth', 'depth', fmtInt(q.depth) + ' (min ' + fmtInt(q.depth_min) +
			    ', max ' + fmtInt(q.depth_max) + ')');
			stat(c, 'slope', 'trend', (q.slope_per_s >= 0 ? '+' : '') +
			    fmtNum(q.slope_per_s) + '/s over ' + fmtMs(list.to - list.from));
			stat(c, 'rates', 'in / out', q.arrival_per_s === undefined ? 'not sent' :
			    fmtNum(q.arrival_per_s) + ' / ' + fmtNum(q.completion_per_s) + ' per s');
			stat(c, 'eta', 'drains in', fmtSecs(q.eta_drain_s));
			stat(c, 'limit', 'limit in', fmtSecs(q.eta_limit_s));
			try {
				const s = await api('/api/v1/apps/' + enc(app) + '/queues/' +
				    enc(q.queue) + '?from=' + from);
				const xs = [], ys = [];
				for (const p of s.series || []) {
					xs.push(p[0] / 1000);
					ys.push(p[1]);
				}
				c.chart.setData(xs, ys);
			} catch (e) { /* the card keeps its last chart */ }
		}));
		for (const [name, c] of charts)
			if (!seen.has(name)) {
				c.chart.destroy();
				c.el.remove();
				charts.delete(name);
			}
		await growing;
	}

	return {
		refresh: refresh,
		destroy() {
			for (const c of charts.values())
				c.chart.destroy();
		},
	};
}

/* Transactions: filters, the stuck list, the live board, and the app's step model. */
function viewTxns(root, r) {
	const p = r.params;
	const f = {
		app: h('input', { type: 'search', name: 'app', list: 't-apps', value: p.app || '',
		    placeholder: 'any application' }),
		step: h('input', { type: 'search', name: 'step', value: p.step || '',
		    placeholder: 'any step' }),
		state: h('select', { name: 'state' }, ['', 'running', 'stuck'].map((v) =>
		    h('option', { value: v, text: v || 'running or stuck', selected: p.state === v }))),
		attr: h('input', { type: 'search', name: 'attr', value: p.attr || '',
		    placeholder: 'key:value', size: 12 }),
		limit: h('select', { name: 'limit' }, ['50', '100', '500'].map((v) =>
		    h('option', { value: v, text: v + ' rows', selected: (p.limit || '100') === v }))),
	};
	const form = h('form', { class: 'controls', id: 'txn-filters' },
	    h('label', null, 'App ', f.app), appDatalist('t-apps'), h('label', null, 'Step ', f.step),
	    h('label', null, 'State ', f.state), h('label', null, 'Attribute ', f.attr), f.limit,
	    h('button', { type: 'submit', text: 'Apply' }),
	    h('button', { type: 'button', class: 'link', text: 'Clear',
	    onclick: () => { location.hash = '#/txns'; } }));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		const q = new URLSearchParams();
		for (const k in f)
			if (f[k].value.trim())
				q.set(k, f[k].value.trim());
		location.hash = '#/txns' + (q.toString() ? '?' + q : '');
	});

	const txnCols = (withStuck) => [
		{ h: 'Application', cell: cLink((t) => t.app, (t) => '#/txns?app=' + enc(t.app)) },
		{ h: 'Transaction', cell: cLink((t) => t.txn_id, (t) => '#/txn/' + enc(t.app) + '/' +
		    enc(t.txn_id)) },
		{ h: 'Step', cell: cText((t) => t.step) },
		{ h: 'Time in step', cls: 'num', cell: (td, t) => {
			setText(td, fmtMs(t.time_in_step_ms));
			td.classList.toggle('hot', !!t.stuck);
		} },
		withStuck ? { h: 'Usual limit', cls: 'num', title: 'stuck after (the step\'s p99 × factor)',
		    cell: cText((t) => fmtMs(t.stuck_after_ms)) } :
		    { h: 'State', cell: cBadge((t) => t.stuck ? 'stuck' : t.state) },
		{ h: 'Running for', cls: 'num', cell: cText((t) => fmtMs(Date.now() - t.begin_ms)) },
		{ h: 'Last event', cls: 'num', cell: cText((t) => fmtAgo(t.last_event_ms)) },
		{ h: 'Steps', cls: 'num', cell: cText((t) => fmtInt(t.steps_seen)) },
		{ h: 'Attributes', cls: 'attrs', cell: cText((t) => attrChips(t.attrs)) },
	];
	const key = (t) => t.app + '\u0000' + t.txn_id;
	const mark = (tr, t) => { tr.dataset.app = t.app; tr.dataset.txn = t.txn_id; };
	const stuckErr = errorLine(), boardErr = errorLine(), stepsErr = errorLine();
	const stuck = makeTable(txnCols(true), key, { empty: 'No stuck transaction.',
	    rowClass: () => 'alarming', onRow: mark });
	const board = makeTable(txnCols(false), key, { empty: 'No running transaction matches.',
	    rowClass: (t) => t.stuck ? 'alarming' : '', onRow: mark });
	const boardInfo = h('span', { class: 'muted' });
	const stuckPanel = panel('Stuck transactions', stuckErr, h('div', { class: 'scroll short' },
	    stuck.el));
	stuckPanel.id = 'stuck';
	const boardPanel = panel('Running transactions', h('p', { class: 'muted' }, boardInfo),
	    boardErr, board.el);
	boardPanel.id = 'board';
	root.append(panel('Filters', form), stuckPanel);

	let steps = null, stepsRows = [];
	if (p.app) {
		steps = makeTable([
			{ h: 'Step', cell: (td, s) => {
				setText(td, s.step + (s.step === steps.slowest ? '  ← slowest' : ''));
				td.classList.toggle('hot', s.step === steps.slowest);
			} },
			{ h: 'Entries', cls: 'num', cell: cText((s) => fmtInt(s.entries)) },
			{ h: 'Repeats', cls: 'num', cell: cText((s) => fmtInt(s.repeats)) },
			{ h: 'Skipped', cls: 'num', cell: cText((s) => fmtPct(s.skipped_ratio)) },
			{ h: 'p50', cls: 'num', cell: cText((s) => s.measured ? fmtMs(s.p50_ms) : '–') },
			{ h: 'p95', cls: 'num', cell: cText((s) => s.measured ? fmtMs(s.p95_ms) : '–') },
			{ h: 'p99', cls: 'num', cell: cBar((s) => s.p99_ms, () => Math.max(...stepsRows
			    .map((x) => x.p99_ms || 0)), (v) => v ? fmtMs(v) : '–') },
			{ h: 'Timed', cls: 'num', title: 'step durations measured (a last step has none)',
			    cell: cText((s) => fmtInt(s.measured)) },
		], (s) => s.step, { empty: 'No steps recorded in the last hour.' });
		steps.info = h('p', { class: 'muted' });
		const sp = panel('Step model of ' + p.app + ' (last hour)', steps.info, stepsErr,
		    steps.el);
		sp.id = 'steps';
		root.append(sp, boardPanel);
	} else
		root.append(boardPanel);

	function qs(extra) {
		const q = new URLSearchParams();
		for (const k of ['app', 'step', 'attr'])
			if (p[k])
				q.set(k, p[k]);
		for (const k in extra)
			q.set(k, extra[k]);
		return q.toString();
	}

	return {
		async refresh() {
			const boardQ = qs(Object.assign({ limit: p.limit || '100' },
			    p.state ? { state: p.state } : {}));
			const jobs = [
				api('/api/v1/transactions/stuck?' + qs({ limit: '100' })).then((s) => {
					showError(stuckErr, null);
					stuck.render(s.transactions || []);
					setText(stuckPanel.title2, 'Stuck transactions (' +
					    fmtInt(s.matched) + ')');
					stuckPanel.classList.toggle('alarm-panel', s.matched > 0);
				}, (e) => showError(stuckErr, e)),
				api('/api/v1/transactions?' + boardQ).then((b) => {
					showError(boardErr, null);
					const rows = (b.transactions || []).slice().sort((x, y) =>
					    (y.stuck - x.stuck) || (y.time_in_step_ms - x.time_in_step_ms));
					board.render(rows);
					setText(boardInfo, fmtInt(b.matched) + ' match' + (b.truncated ?
					    ', showing the ' + rows.length + ' longest in their step' : '') +
					    '. Click a transaction for its timeline.');
				}, (e) => showError(boardErr, e)),
			];
			if (steps)
				jobs.push(api('/api/v1/apps/' + enc(p.app) + '/steps').then((s) => {
					showError(stepsErr, null);
					steps.slowest = s.slowest_step;
					stepsRows = s.steps || [];
					steps.render(stepsRows);
					setText(steps.info, fmtInt(s.txns_begun) + ' begun, ' +
					    fmtInt(s.txns_ended) + ' ended, ' + fmtInt(s.txns_failed) +
					    ' failed; slowest step: ' + (s.slowest_step || '–'));
				}, (e) => showError(stepsErr, e)));
			await Promise.all(jobs);
		},
	};
}

/* One transaction: header, a Gantt of its steps, the raw events. */
function viewTxn(root, r) {
	const app = r.parts[1], id = r.parts[2];
	const title = h('h2', { text: 'Transaction ' + id + ' of ' + app });
	const err = errorLine();
	const head = h('dl', { class: 'stats wide' });
	const gantt = h('div', { class: 'gantt', id: 'timeline' });
	const axis = h('div', { class: 'gantt-axis' });
	const cells = {};
	const events = makeTable([
		{ h: 'Time', cls: 'num', cell: cText((e) => fmtTime(e.time_ms, true)) },
		{ h: '+', cls: 'num', title: 'since the first event', cell: cText((e) =>
		    fmtMs(e.time_ms - t0)) },
		{ h: 'Step', cell: cText((e) => e.step) },
		{ h: 'Event', cell: cBadge((e) => e.state) },
		{ h: 'Duration', cls: 'num', cell: cText((e) => e.duration_ms === undefined ?
		    (last && last.state === 'running' ? fmtMs(Date.now() - e.time_ms) + ' so far' : '–') :
		    fmtMs(e.duration_ms)) },
		{ h: 'Attributes', cls: 'attrs', cell: cText((e) => attrChips(e.attrs)) },
	], (e) => String(e.seq) + '/' + e.time_ms, { empty: 'No events.', cls: 'auto' });
	root.append(h('section', { class: 'panel', id: 'txn' }, h('p', null,
	    h('a', { href: '#/txns?app=' + enc(app), text: '← transactions of ' + app })), title, err,
	    head, h('h3', { text: 'Timeline' }), gantt, axis, h('h3', { text: 'Events' }), events.el));
	let t0 = 0, last = null;

	function field(k, label, v) {
		if (!cells[k]) {
			cells[k] = h('dd');
			head.append(h('dt', { text: label }), cells[k]);
		}
		setText(cells[k], v);
	}

	return {
		async refresh() {
			let t;
			try {
				t = await api('/api/v1/apps/' + enc(app) + '/transactions/' + enc(id));
				showError(err, null);
			} catch (e) {
				showError(err, e);
				return;
			}
			last = t;
			const tl = t.timeline || [];
			t0 = tl.length ? tl[0].time_ms : t.begin_ms;
			field('state', 'state', t.stuck ? 'stuck' : t.state);
			field('step', 'current step', t.step);
			/* The single-transaction reply counts time in step up to its last event. */
			field('tis', 'time in step', fmtMs(t.state === 'running' ?
			    Math.max(0, Date.now() - t.step_since_ms) : t.time_in_step_ms));
			field('begin', 'began', fmtDateTime(t.begin_ms));
			field('events', 'events', fmtInt(t.events));
			field('stuck', 'stuck after', t.stuck_after_ms ? fmtMs(t.stuck_after_ms) : '–');
			field('attrs', 'attributes', attrChips(t.attrs));
			title.classList.toggle('hot', !!t.stuck);
			const running = t.state === 'running';
			const end = Math.max(running ? Date.now() : 0, tl.length ?
			    tl[tl.length - 1].time_ms : t0, t0 + 1);
			const span = end - t0;
			/* One bar per step entered; rebuilt, it is a handful of nodes. */
			const bars = [];
			tl.forEach((e, i) => {
				const s = e.time_ms, en = i + 1 < tl.length ? tl[i + 1].time_ms :
				    running ? end : s;
				if (e.state === 'end' && i + 1 === tl.length && !running) {
					bars.push(h('div', { class: 'gantt-row' }, h('span',
					    { class: 'gantt-label', text: 'end' }), h('div',
					    { class: 'gantt-track' }, h('div', { class: 'gantt-mark',
					    style: 'left:' + ((s - t0) / span * 100).toFixed(2) + '%' }))));
					return;
				}
				const left = (s - t0) / span * 100, w = Math.max(0.4, (en - s) / span * 100);
				const live = running && i + 1 === tl.length;
				bars.push(h('div', { class: 'gantt-row' + (live && t.stuck ? ' stuck' : '') },
				    h('span', { class: 'gantt-label', text: e.step }),
				    h('div', { class: 'gantt-track' }, h('div', {
					class: 'gantt-bar ' + e.state + (live ? ' live' : ''),
					style: 'left:' + left.toFixed(2) + '%;width:' +
					    Math.min(w, 100 - left).toFixed(2) + '%',
					title: e.step + ': ' + fmtMs(en - s) }, h('span', {
					text: fmtMs(en - s) + (live ? ' so far' : '') })))));
			});
			gantt.replaceChildren(...bars);
			axis.replaceChildren(h('span', { text: fmtTime(t0, true) }), h('span',
			    { text: '+' + fmtMs(span) + (running ? ' (now)' : '') }));
			events.render(tl);
		},
	};
}

/* Performance: p50/p95/p99 per app and job, the top-N slowest, against a day earlier. */
function viewPerf(root) {
	const st = ui.perf;
	const appIn = h('input', { type: 'search', list: 'p-apps', value: st.app,
	    placeholder: 'any application' });
	const jobIn = h('input', { type: 'search', value: st.job, placeholder: 'any job' });
	const cmpSel = h('select', { 'aria-label': 'compare with' }, [['', 'no comparison'],
	    ['1d', 'vs a day earlier'], ['7d', 'vs a week earlier']].map(([v, t]) =>
	    h('option', { value: v, text: t, selected: st.compare === v })));
	const form = h('form', { class: 'controls' }, h('label', null, 'App ', appIn),
	    appDatalist('p-apps'), h('label', null, 'Job ', jobIn), rangeSelect(st.range,
	    (v) => { st.range = v; refresh(); }), cmpSel, h('button', { type: 'submit',
	    text: 'Apply' }));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		st.app = appIn.value.trim();
		st.job = jobIn.value.trim();
		st.page = 0;
		refresh();
	});
	cmpSel.addEventListener('change', () => { st.compare = cmpSel.value; refresh(); });

	let top = [], all = [];
	const deltaCell = (f) => (td, j) => {
		const c = j.compare;
		const d = c && c.count ? fmtDelta(f(j), f(c)) : null;
		setText(td, d === null ? '–' : d);
		setAttr(td, 'title', !c ? 'no comparison asked' : !c.count ?
		    'no data in the earlier window' : 'then: ' + f(c));
		const p = c && f(c) ? (f(j) - f(c)) / f(c) : 0;
		setClass(td, 'num ' + (p > 0.2 ? 'worse' : p < -0.2 ? 'better' : ''));
	};
	const cols = (max) => [
		{ h: 'Application', sort: 'app', cell: cLink((j) => j.app, (j) => '#/txns?app=' +
		    enc(j.app)) },
		{ h: 'Job', sort: 'job', cell: cText((j) => j.job) },
		{ h: 'Count', sort: 'count', cls: 'num', cell: cText((j) => fmtInt(j.count)) },
		{ h: 'Errors', sort: 'error_rate', cls: 'num', cell: cText((j) => fmtPct(j.error_rate)) },
		{ h: 'p50', sort: 'p50_us', cls: 'num', cell: cText((j) => fmtUs(j.p50_us)) },
		{ h: 'p95', sort: 'p95_us', cls: 'num', cell: cText((j) => fmtUs(j.p95_us)) },
		{ h: 'p99', sort: 'p99_us', cls: 'num', cell: cBar((j) => j.p99_us, max, fmtUs) },
		{ h: 'p99 change', cls: 'num', title: 'p99 against the same window earlier',
		    cell: deltaCell((j) => j.p99_us) },
		{ h: 'Count change', cls: 'num', cell: deltaCell((j) => j.count) },
	];
	const key = (j) => j.app + '\u0000' + j.job;
	const topErr = errorLine(), allErr = errorLine();
	const topTable = makeTable(cols(() => top.length ? top[0].p99_us : 1), key,
	    { empty: 'No job timings in this window.' });
	const sortBy = (k) => {
		if (st.sort === k)
			st.dir = -st.dir;
		else {
			st.sort = k;
			st.dir = k === 'app' || k === 'job' ? 1 : -1;
		}
		st.page = 0;
		draw();
	};
	const allTable = makeTable(cols(() => all.reduce((m, j) => Math.max(m, j.p99_us), 1)), key,
	    { onSort: sortBy, empty: 'No job timings match.' });
	const pager = makePager((d) => { st.page += d; draw(); });
	const topPanel = panel('Top 10 slowest (by p99)', topErr, topTable.el);
	topPanel.id = 'perf-top';
	const allPanel = panel('Every application and job', h('div', { class: 'controls' },
	    pager.el), allErr, allTable.el);
	allPanel.id = 'perf-all';
	root.append(panel('Performance', form), topPanel, allPanel);

	function draw() {
		const rows = all.slice().sort((a, b) => {
			const k = st.sort;
			const r = k === 'app' || k === 'job' ? natCmp(a[k], b[k]) : (a[k] || 0) - (b[k] || 0);
			return r * st.dir || natCmp(a.app, b.app) || natCmp(a.job, b.job);
		});
		const pages = Math.max(1, Math.ceil(rows.length / PAGE));
		st.page = Math.max(0, Math.min(st.page, pages - 1));
		pager.update(st.page, rows.length);
		allTable.render(rows.slice(st.page * PAGE, (st.page + 1) * PAGE), st.sort, st.dir);
	}

	async function refresh() {
		const q = new URLSearchParams({ from: '-' + st.range });
		if (st.compare)
			q.set('compare', st.compare);
		const qa = new URLSearchParams(q);
		if (st.app)
			qa.set('app', st.app);
		if (st.job)
			qa.set('job', st.job);
		q.set('n', '10');
		await Promise.all([
			api('/api/v1/perf/top?' + q).then((t) => {
				showError(topErr, null);
				top = t.jobs || [];
				topTable.render(top);
				setText(topPanel.title2, 'Top 10 slowest by p99, last ' + st.range +
				    ' (of ' + fmtInt(t.candidates) + ' app/job pairs)');
			}, (e) => showError(topErr, e)),
			api('/api/v1/perf?' + qa).then((a) => {
				showError(allErr, null);
				all = a.jobs || [];
				draw();
			}, (e) => {
				showError(allErr, e);
				if (e.status === 404) {
					all = [];
					draw();
				}
			}),
		]);
	}
	/* Hour-long aggregates over every app and job: no need to fetch them every 2 s. */
	return { refresh: refresh, interval: 15000 };
}

/* Logs: search by application, level, text and range; newest first, paged by cursor. */
function viewLogs(root) {
	const st = ui.logs;
	const appIn = h('input', { type: 'search', list: 'l-apps', value: st.app,
	    placeholder: 'any application' });
	const lvl = h('select', { 'aria-label': 'level' }, ['', 'debug', 'info', 'warn', 'error',
	    'fatal'].map((v) => h('option', { value: v, text: v ? v + ' and worse' : 'any level',
	    selected: st.level === v })));
	const text = h('input', { type: 'search', value: st.q, placeholder: 'text contains…',
	    size: 24 });
	const form = h('form', { class: 'controls', id: 'log-search' }, h('label', null, 'App ',
	    appIn), appDatalist('l-apps'), lvl, text, rangeSelect(st.range, (v) => {
		st.range = v;
	}), h('button', { type: 'submit', text: 'Search' }));
	const err = errorLine();
	const info = h('p', { class: 'muted' });
	const older = h('button', { type: 'button', text: 'Older ›' });
	const newest = h('button', { type: 'button', class: 'link', text: '« Newest (live)' });
	const table = makeTable([
		{ h: 'Time', cls: 'num nowrap', cell: cText((l) => fmtDateTime(l.time_ms)) },
		{ h: 'Application', cell: cLink((l) => l.app, (l) => '#/txns?app=' + enc(l.app)) },
		{ h: 'Level', cell: cBadge((l) => l.level, (l, v) => 'lvl-' + v) },
		{ h: 'Message', cls: 'msg', cell: cText((l) => l.message) },
	], (l) => l.time_ms + '.' + l.app + '.' + l.seq, { empty: 'No log line matches.' });
	const lp = panel('Logs', form, info, err, table.el, h('div', { class: 'pager' }, newest,
	    older));
	lp.id = 'logs';
	root.append(lp);
	let cursor = null, pages = [];	/* pages: cursors of the pages shown, [] = newest */

	form.addEventListener('submit', (e) => {
		e.preventDefault();
		st.app = appIn.value.trim();
		st.level = lvl.value;
		st.q = text.value.trim();
		pages = [];
		refresh();
	});
	older.addEventListener('click', () => {
		if (cursor) {
			pages.push(cursor);
			refresh();
		}
	});
	newest.addEventListener('click', () => { pages = []; refresh(); });

	async function refresh() {
		const q = new URLSearchParams({ from: '-' + st.range, limit: '100' });
		if (st.app)
			q.set('app', st.app);
		if (st.level)
			q.set('level', st.level);
		if (st.q)
			q.set('q', st.q);
		if (pages.length)
			q.set('cursor', pages[pages.length - 1]);
		let r;
		try {
			r = await api('/api/v1/logs?' + q);
			showError(err, null);
		} catch (e) {
			showError(err, e);
			return;
		}
		cursor = r.next_cursor;
		older.disabled = !cursor;
		show(newest, pages.length > 0);
		table.render(r.logs || []);
		setText(info, (pages.length ? 'Page ' + (pages.length + 1) + ' (not live). ' :
		    'Newest first, live. ') + (r.logs || []).length + ' lines' +
		    (cursor ? '; older ones on the next page.' : '.'));
	}
	return {
		/* Only the newest page follows new lines; an older page stays put. */
		refresh: () => pages.length ? Promise.resolve() : refresh(),
		first: refresh,
	};
}

/* The token for mutating calls: asked once, kept for this tab in sessionStorage. */
function modal(title, fields, submitText) {
	const m = document.getElementById('modal');
	return new Promise((resolve) => {
		const inputs = {};
		const form = h('form', { class: 'modal-box' }, h('h2', { text: title }),
		    fields.map((f) => {
			inputs[f.name] = f.type === 'select' ? h('select', { name: f.name },
			    f.options.map(([v, t]) => h('option', { value: v, text: t }))) :
			    h('input', { name: f.name, type: f.type || 'text', value: f.value || '',
			    required: f.required, placeholder: f.placeholder || '',
			    autocomplete: 'off' });
			return h('label', { class: 'field' }, h('span', { text: f.label }),
			    inputs[f.name], f.note ? h('small', { class: 'muted', text: f.note }) : null);
		}), h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'link',
		    text: 'Cancel', onclick: () => done(null) }), h('button', { type: 'submit',
		    text: submitText || 'OK' })));
		function done(v) {
			m.replaceChildren();
			show(m, false);
			document.removeEventListener('keydown', esc);
			resolve(v);
		}
		function esc(e) {
			if (e.key === 'Escape')
				done(null);
		}
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			const out = {};
			for (const k in inputs)
				out[k] = inputs[k].value.trim();
			done(out);
		});
		document.addEventListener('keydown', esc);
		m.replaceChildren(form);
		show(m, true);
		const first = form.querySelector('input,select');
		if (first)
			first.focus();
	});
}

async function token(again) {
	let t = sessionStorage.getItem(TOKEN_KEY);
	if (t && !again)
		return t;
	const v = await modal(again ? 'Wrong token — enter the API token' : 'API token',
	    [{ name: 'token', label: 'Bearer token (monitord.conf "token")', type: 'password',
	    required: true, note: 'Kept in this tab only (sessionStorage).' }], 'Use token');
	if (!v || !v.token)
		return null;
	sessionStorage.setItem(TOKEN_KEY, v.token);
	return v.token;
}

/* POST with the token; asks again once on 401. Resolves to the reply or throws. */
async function mutate(path, body) {
	for (let attempt = 0; attempt < 2; attempt++) {
		const t = await token(attempt > 0);
		if (!t)
			throw new ApiError(401, 'no token given');
		try {
			return await api(path, { method: 'POST', body: JSON.stringify(body),
			    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + t } });
		} catch (e) {
			if (e.status !== 401)
				throw e;
			sessionStorage.removeItem(TOKEN_KEY);
		}
	}
	throw new ApiError(401, 'the token was refused');
}

/*
 * Alarm objects as the alarms API returns them; fields are read tolerantly (the API is
 * younger than this page): id (or key), rule, app, object, state, since_ms, ack_by ...
 */
const alarmId = (a) => a.id !== undefined ? String(a.id) : a.key;
const alarmSince = (a) => a.firing_since_ms || a.since_ms || a.starts_ms || a.started_ms;
const ALARM_RANK = { firing: 0, pending: 1, acknowledged: 2, acked: 2, resolved: 3, inactive: 4 };

/* Alarms: the list, acknowledge and silence buttons, the silences in force. */
function viewAlarms(root) {
	const err = errorLine();
	const note = h('p', { class: 'muted' });
	const flash = h('p', { class: 'flash hidden', role: 'status' });
	let alarms = [];
	const table = makeTable([
		{ h: 'State', cell: cBadge((a) => a.state, (a, v) => 'alarm-' + v) },
		{ h: 'Severity', cell: cBadge((a) => a.severity, (a, v) => 'sev-' + v) },
		{ h: 'Rule', cell: cText((a) => (a.rule || a.name) + (a.silenced ? ' (silenced)' : '')) },
		{ h: 'Application', cell: cLink((a) => a.app || '–', (a) => a.app ? '#/queues/' +
		    enc(a.app) : '#/alarms') },
		{ h: 'Object', cell: cText((a) => a.object || a.queue || a.job || a.step || '') },
		{ h: 'Since', cls: 'num', cell: cText((a) => fmtAgo(alarmSince(a))) },
		{ h: 'Value', cls: 'num', cell: cText((a) => a.value === undefined ? '' :
		    fmtNum(a.value)) },
		{ h: 'Acknowledged', cell: cText((a) => a.ack_by ? a.ack_by + (a.ack_comment ?
		    ': ' + a.ack_comment : '') + ' (' + fmtAgo(a.ack_ms) + ')' :
		    (a.ack && a.ack.by ? a.ack.by : '')) },
		{ h: '', cls: 'actions', cell: (td, a) => {
			if (!td.firstChild) {
				td.append(h('button', { type: 'button', class: 'small ack', text: 'Acknowledge',
				    onclick: () => ack(td.parentNode._item) }), h('button', { type: 'button',
				    class: 'small silence', text: 'Silence',
				    onclick: () => silence(td.parentNode._item) }));
			}
			td.firstChild.disabled = !(a.state === 'firing' || a.state === 'pending');
		} },
	], alarmId, { empty: 'No alarm.', onRow: (tr, a) => { tr.dataset.alarm = alarmId(a); },
	    rowClass: (a) => 'alarm-row ' + (a.state === 'firing' ? 'alarming' : '') });
	const silences = makeTable([
		{ h: 'Rule', cell: cText((s) => s.rule || '*') },
		{ h: 'Application', cell: cText((s) => s.app || '*') },
		{ h: 'Until', cls: 'num', cell: cText((s) => fmtDateTime(s.ends_ms)) },
		{ h: 'By', cell: cText((s) => s.created_by || s.who || '') },
		{ h: 'Comment', cell: cText((s) => s.comment || '') },
	], (s) => String(s.id !== undefined ? s.id : s.rule + '/' + s.app + '/' + s.ends_ms),
	{ empty: 'No silence in force.' });
	const ap = panel('Alarms', note, flash, err, table.el);
	ap.id = 'alarms';
	const sp = panel('Silences', silences.el);
	root.append(ap, sp);

	function say(msg, bad) {
		setText(flash, msg);
		setClass(flash, 'flash' + (bad ? ' bad' : ''));
		clearTimeout(flash.t);
		flash.t = setTimeout(() => show(flash, false), 8000);
	}

	async function who() {
		return sessionStorage.getItem(WHO_KEY) || '';
	}

	async function ack(a) {
		const v = await modal('Acknowledge ' + (a.rule || '') + (a.app ? ' on ' + a.app : ''), [
			{ name: 'who', label: 'Your name', value: await who(), required: true },
			{ name: 'comment', label: 'Comment', placeholder: 'what you are doing about it',
			    required: true },
		], 'Acknowledge');
		if (!v)
			return;
		sessionStorage.setItem(WHO_KEY, v.who);
		try {
			await mutate('/api/v1/alarms/' + enc(alarmId(a)) + '/ack', { who: v.who,
			    comment: v.comment });
			say('Acknowledged ' + (a.rule || alarmId(a)) + '.');
		} catch (e) {
			say('Acknowledge failed: ' + e.message, true);
		}
		refresh();
	}

	async function silence(a) {
		const v = await modal('Silence ' + (a.rule || '') + (a.app ? ' on ' + a.app : ''), [
			{ name: 'rule', label: 'Rule (pattern)', value: a.rule || '*', required: true },
			{ name: 'app', label: 'Application (pattern)', value: a.app || '*', required: true },
			{ name: 'for', label: 'For', type: 'select', options: [['1h', '1 hour'],
			    ['4h', '4 hours'], ['24h', '1 day'], ['168h', '1 week']] },
			{ name: 'who', label: 'Your name', value: await who(), required: true },
			{ name: 'comment', label: 'Comment (mandatory)', required: true },
		], 'Silence');
		if (!v)
			return;
		sessionStorage.setItem(WHO_KEY, v.who);
		try {
			await mutate('/api/v1/silences', { rule: v.rule, app: v.app, duration: v.for,
			    created_by: v.who, comment: v.comment });
			say('Silenced ' + v.rule + ' on ' + v.app + ' for ' + v.for + '.');
		} catch (e) {
			say('Silence failed: ' + e.message, true);
		}
		refresh();
	}

	async function refresh() {
		let r;
		try {
			r = await api('/api/v1/alarms');
			showError(err, null);
		} catch (e) {
			if (e.status === 404 || e.status === 405) {
				/* The alarms API is not on this monitord: an empty list, not an error. */
				alarms = [];
				table.render([]);
				silences.render([]);
				setText(note, 'This monitord has no alarms API (/api/v1/alarms answered ' +
				    e.status + '); nothing to show.');
				showError(err, null);
				return;
			}
			showError(err, e);
			return;
		}
		alarms = (Array.isArray(r) ? r : r.alarms || []).slice().sort((a, b) =>
		    (ALARM_RANK[a.state] ?? 5) - (ALARM_RANK[b.state] ?? 5) ||
		    (alarmSince(b) || 0) - (alarmSince(a) || 0));
		table.render(alarms);
		const firing = alarms.filter((a) => a.state === 'firing').length;
		setText(note, firing + ' firing, ' + alarms.length + ' in all. Acknowledging or ' +
		    'silencing asks for the API token once.');
		const sil = r.silences || (await api('/api/v1/silences').then((s) => Array.isArray(s) ?
		    s : s.silences || [], () => []));
		silences.render(sil);
	}
	return { refresh: refresh };
}

/* Cluster: role of each node, term, replication lag, last failover. */
function viewCluster(root) {
	const err = errorLine();
	const mode = h('p', { class: 'muted' });
	const nodes = makeTable([
		{ h: 'Node', cell: cText((n) => n.node) },
		{ h: 'Role', cell: cBadge((n) => n.role, (n, v) => 'role-' + v) },
		{ h: 'Term', cls: 'num', cell: cText((n) => n.term === undefined ? '–' : fmtInt(n.term)) },
		{ h: 'Log position', cls: 'num', cell: cText((n) => n.log_pos === undefined ? '–' :
		    fmtInt(n.log_pos)) },
		{ h: 'Replication', cell: cText((n) => n.repl || '') },
		{ h: 'Lag (records)', cls: 'num', cell: cText((n) => n.lag === undefined ? '–' :
		    fmtInt(n.lag)) },
		{ h: 'Notes', cell: cText((n) => n.notes || '') },
	], (n) => n.key, { empty: 'No node reported.' });
	const fo = h('dl', { class: 'stats wide' });
	const raw = h('pre', { class: 'raw' });
	const details = h('details', null, h('summary', { text: 'Raw status' }), raw);
	const cp = panel('Cluster', mode, err, nodes.el, h('h3', { text: 'Last failover' }), fo,
	    details);
	cp.id = 'cluster';
	root.append(cp);

	return {
		async refresh() {
			let c;
			try {
				c = await api('/api/v1/cluster');
				showError(err, null);
			} catch (e) {
				showError(err, e);
				return;
			}
			const st = c.status || {};
			const repl = c.repl || st.repl || c.replication || {};
			const rows = [{
				key: 'self', node: (c.node || st.node || location.hostname) + ' (this node)',
				role: c.role, term: c.term ?? st.term, log_pos: st.log_pos,
				repl: repl.mode ? repl.mode + (repl.connected ? ', peer connected' :
				    c.mode === 'cluster' ? ', peer not connected' : '') : '',
				lag: repl.lag,
				notes: [st.accepting === false ? 'not accepting agents' : '',
				    st.paused ? 'paused' : '', st.store_full ? 'store full' : '',
				    st.conns !== undefined ? fmtInt(st.conns) + ' agents connected' : '',
				    c.error || ''].filter(Boolean).join('; '),
			}];
			const peer = c.peer || st.peer;
			if (peer)
				rows.push({ key: 'peer', node: peer.node || ('node ' + (peer.node_id ?? '?')),
				    role: peer.role, term: peer.term, log_pos: peer.log_pos,
				    repl: peer.state || '', notes: peer.last_heard_ms_ago !== undefined ?
				    'heard ' + fmtMs(peer.last_heard_ms_ago) + ' ago' : '' });
			else if (c.mode === 'cluster')
				rows.push({ key: 'peer', node: 'peer', role: repl.connected ?
				    (c.role === 'active' ? 'standby' : 'active') : 'unknown',
				    repl: repl.peer_pos !== undefined ? 'at position ' +
				    fmtInt(repl.peer_pos) : '', notes: repl.connected ?
				    'replication connected' : 'not connected' });
			nodes.render(rows);
			setText(mode, c.mode === 'single' ? 'Single node: no high availability configured.' :
			    'High-availability pair; term ' + (c.term ?? st.term ?? '–') + '.');
			const lf = c.last_failover || st.last_failover;
			const items = lf ? [['when', lf.at || fmtDateTime(lf.at_ms)], ['from → to',
			    (lf.from || '?') + ' → ' + (lf.to || '?')], ['term', lf.term], ['why', lf.why],
			    ['detection', fmtMs(lf.detect_ms)], ['takeover', fmtMs(lf.takeover_ms)],
			    ['total', fmtMs(lf.duration_ms)]] : [['', c.mode === 'single' ?
			    'not applicable' : 'none reported']];
			fo.replaceChildren(...items.flatMap(([k, v]) => [h('dt', { text: k }),
			    h('dd', { text: v === undefined || v === null ? '–' : String(v) })]));
			setText(raw, JSON.stringify(c, null, 2));
		},
	};
}

/* Routing and polling. */

const VIEWS = { overview: viewOverview, queues: viewQueues, txns: viewTxns, txn: viewTxn,
    perf: viewPerf, logs: viewLogs, alarms: viewAlarms, cluster: viewCluster };
const NAV = { txn: 'txns' };
let current = null, gen = 0, timer = null;

function parseHash() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, query] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map((s) => {
		try {
			return decodeURIComponent(s);
		} catch (e) {
			return s;
		}
	});
	if (!parts.length || !VIEWS[parts[0]])
		parts.splice(0, parts.length, 'overview');
	const params = {};
	for (const [k, v] of new URLSearchParams(query || ''))
		params[k] = v;
	return { name: parts[0], parts: parts, params: params };
}

function navigate() {
	const r = parseHash();
	if (current && current.destroy)
		current.destroy();
	clearTimeout(timer);
	gen++;
	const root = document.getElementById('view');
	root.replaceChildren();
	root.dataset.view = r.name;
	delete root.dataset.loaded;
	for (const a of document.querySelectorAll('#nav a'))
		a.classList.toggle('active', a.dataset.view === (NAV[r.name] || r.name));
	current = VIEWS[r.name](root, r);
	poll(gen, true);
}

async function poll(g, first) {
	if (g !== gen)
		return;
	const live = document.getElementById('live').checked;
	if (first || (live && !document.hidden)) {
		try {
			await (first && current.first ? current.first() : current.refresh());
			if (g === gen)
				document.getElementById('view').dataset.loaded = '1';
		} catch (e) {
			console.error(e);
		}
		if (!conn.down)
			setText(document.getElementById('updated'), 'updated ' + fmtTime(Date.now()));
	}
	if (g === gen)
		timer = setTimeout(() => poll(g, false), conn.down ? POLL_MS :
		    current.interval || POLL_MS);
}

/* The header: this node's role and the number of firing alarms, every 5 s. */
async function header() {
	const role = document.getElementById('role');
	try {
		const c = await api('/api/v1/cluster');
		setText(role, c.mode === 'single' ? 'single node' : (c.node ? c.node + ': ' : '') +
		    (c.role || '?') + (c.term !== undefined ? ' · term ' + c.term : ''));
		setClass(role, 'role role-' + (c.role || 'unknown'));
	} catch (e) {
		setText(role, 'unreachable');
		setClass(role, 'role role-unknown');
	}
	try {
		const r = await api('/api/v1/alarms');
		const n = (Array.isArray(r) ? r : r.alarms || []).filter((a) => a.state ===
		    'firing').length;
		const b = document.getElementById('alarm-count');
		setText(b, String(n));
		show(b, n > 0);
	} catch (e) { /* no alarms API yet */ }
	setTimeout(header, conn.down ? POLL_MS : 5000);
}

window.addEventListener('hashchange', navigate);
document.addEventListener('visibilitychange', () => {
	if (!document.hidden) {
		clearTimeout(timer);
		poll(gen, false);
	}
});
document.getElementById('live').addEventListener('change', () => {
	clearTimeout(timer);
	poll(gen, false);
});
navigate();
header();
})();
