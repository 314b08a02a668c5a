#!/usr/bin/env node
// play.mjs: play one page in headless Chromium and report how playback went.
//
//   node test/player/play.mjs --url URL [--seconds 10] [--expect-stall-free]
//        [--startup-timeout 20] [--screenshot out.png]
//
// Opens URL (loopback only: 127.0.0.1, localhost, [::1]) in /usr/bin/chromium
// driven by playwright-core from web/node_modules, waits for the page's
// <video> to start playing, samples video.currentTime every 250 ms for
// --seconds, and prints ONE JSON line on stdout:
//
//   {ok, reason, startup_ms, seconds, advanced, rate, stalls, errors,
//    console_errors, latency_s, levels_seen, stats}
//
//   ok          playback started, currentTime advanced, the <video> has no
//               MediaError, and with --expect-stall-free there was no stall
//   reason      why ok is false ("" when ok)
//   startup_ms  from navigation to the first observed advance of currentTime
//   advanced    currentTime delta over the sampling window (seconds)
//   rate        advanced / wall-clock seconds sampled (1.0 = real time)
//   stalls      'waiting' events after start that lasted > 500 ms
//   errors      page errors, player errors (window.onair.errors), media errors
//   latency_s   window.onair.stats().latency once per second, when the page has it
//   levels_seen distinct window.onair.stats().level values (>= 0)
//   max_stall_ms the longest 'waiting' interval after start (ms)
//   frags       window.onair.frags at the end, when the page keeps one
//               (the test page records every fragment played)
//
// Exit 0 whenever it could judge playback (also when playback failed: the
// caller judges); exit 2 on harness failure (bad arguments, playwright-core
// or Chromium missing, internal error). The browser is always closed, with a
// hard timeout guard. Requests to anything but loopback hosts are blocked.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const SAMPLE_MS = 250;
const STALL_MS = 500;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

let userDataDir = null;
let context = null;
let failing = false;

function harnessFailure(message) {
  if (failing) return;
  failing = true;
  process.stderr.write(`play.mjs: ${message}\n`);
  process.stdout.write(`${JSON.stringify({ ok: false, harness_error: message })}\n`);
  cleanup().finally(() => process.exit(2));
}

async function cleanup() {
  const ctx = context;
  context = null;
  if (ctx) {
    await Promise.race([ctx.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  if (userDataDir) {
    rmSync(userDataDir, { recursive: true, force: true });
    userDataDir = null;
  }
}

function isLoopbackURL(u) {
  try {
    const url = new URL(u);
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return true;
    return (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:') &&
      (LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname));
  } catch {
    return false;
  }
}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      'expect-stall-free': { type: 'boolean', default: false },
      'startup-timeout': { type: 'string', default: '20' },
      screenshot: { type: 'string' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const startupTimeout = Number(values['startup-timeout']);
  if (!values.url) throw new Error('--url is required');
  if (!isLoopbackURL(values.url) || !/^https?:/.test(values.url)) {
    throw new Error(`--url must be http(s) on a loopback host, got ${values.url}`);
  }
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`--seconds must be in (0, 600], got ${values.seconds}`);
  if (!(startupTimeout > 0 && startupTimeout <= 600)) throw new Error('--startup-timeout must be in (0, 600]');
  return { url: values.url, seconds, startupTimeout, stallFree: values['expect-stall-free'], screenshot: values.screenshot };
}

function loadPlaywright() {
  const require = createRequire(new URL('../../web/package.json', import.meta.url));
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed in web/node_modules: run scripts/vendor-web.sh');
  }
}

// Installed in the page before any of its scripts: records 'waiting'
// intervals of every media element (capture phase: media events don't bubble).
function pageProbe() {
  const h = { waits: [] };
  window.__harness = h;
  document.addEventListener('waiting', (e) => {
    if (!(e.target instanceof HTMLMediaElement)) return;
    const last = h.waits[h.waits.length - 1];
    if (!last || last.end !== null) h.waits.push({ start: performance.now(), end: null });
  }, true);
  for (const type of ['playing', 'seeked']) {
    document.addEventListener(type, (e) => {
      if (!(e.target instanceof HTMLMediaElement)) return;
      const last = h.waits[h.waits.length - 1];
      if (last && last.end === null) last.end = performance.now();
    }, true);
  }
}

// Evaluated in the page at every sample.
function pageSample() {
  const v = document.querySelector('video');
  const o = window.onair;
  let stats = null;
  try {
    stats = o && typeof o.stats === 'function' ? o.stats() : null;
  } catch { /* page bug: reported as missing stats */ }
  return {
    now: performance.now(),
    hasVideo: !!v,
    currentTime: v ? v.currentTime : 0,
    paused: v ? v.paused : true,
    mediaError: v && v.error ? `media error ${v.error.code}: ${v.error.message || ''}`.trim() : null,
    playerErrors: o && Array.isArray(o.errors)
      ? o.errors.map((e) => (typeof e === 'string' ? e : e.message || JSON.stringify(e))) : [],
    stats,
    waits: window.__harness ? window.__harness.waits : [],
  };
}

async function main() {
  let opts;
  try {
    opts = options();
  } catch (err) {
    harnessFailure(err.message);
    return;
  }
  const playwright = loadPlaywright();
  const guardMs = (opts.startupTimeout + opts.seconds + 45) * 1000;
  const guard = setTimeout(() => harnessFailure(`timed out after ${guardMs / 1000} s`), guardMs);

  userDataDir = mkdtempSync(join(tmpdir(), 'onair-player-'));
  context = await playwright.chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    timeout: 30000,
  });
  await context.route('**/*', (route) => {
    if (isLoopbackURL(route.request().url())) route.continue().catch(() => {});
    else route.abort('blockedbyclient').catch(() => {});
  });
  await context.addInitScript(pageProbe);

  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  const consoleErrors = [];
  page.on('pageerror', (err) => errors.push(`page: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && consoleErrors.length < 50) consoleErrors.push(msg.text());
  });

  const result = {
    ok: false, reason: '', startup_ms: null, seconds: 0, advanced: 0, rate: 0, stalls: 0,
    errors, console_errors: consoleErrors, latency_s: [], levels_seen: [], stats: null,
    max_stall_ms: 0, frags: [],
  };
  const t0 = Date.now();
  try {
    await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: opts.startupTimeout * 1000 });
  } catch (err) {
    result.reason = `navigation failed: ${err.message.split('\n')[0]}`;
    return finish(result, guard);
  }

  // Wait for currentTime to advance while playing.
  let s = null;
  let prev = null;
  const deadline = t0 + opts.startupTimeout * 1000;
  while (Date.now() < deadline) {
    s = await page.evaluate(pageSample);
    if (s.mediaError) break;
    if (prev && s.hasVideo && !s.paused && s.currentTime > prev.currentTime) break;
    prev = s;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!s || !prev || s.mediaError || s.paused || s.currentTime <= prev.currentTime) {
    result.reason = s && s.mediaError ? s.mediaError
      : `playback did not start within ${opts.startupTimeout} s`;
    if (s) collect(result, s);
    await screenshot(page, opts);
    return finish(result, guard);
  }
  result.startup_ms = Date.now() - t0;
  const startedAt = s.now; // page clock

  // Sample.
  const first = s;
  const levels = new Set();
  let last = s;
  let n = 0;
  const stop = Date.now() + opts.seconds * 1000;
  while (Date.now() < stop) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    last = await page.evaluate(pageSample);
    n++;
    const st = last.stats;
    if (st && Number.isInteger(st.level) && st.level >= 0) levels.add(st.level);
    if (st && n % 4 === 0 && Number.isFinite(st.latency)) result.latency_s.push(+st.latency.toFixed(3));
  }
  const wall = (last.now - first.now) / 1000;
  result.seconds = +wall.toFixed(3);
  result.advanced = +(last.currentTime - first.currentTime).toFixed(3);
  result.rate = wall > 0 ? +(result.advanced / wall).toFixed(3) : 0;
  const waits = last.waits.filter((w) => w.start >= startedAt).map((w) => (w.end ?? last.now) - w.start);
  result.stalls = waits.filter((ms) => ms > STALL_MS).length;
  result.max_stall_ms = Math.round(Math.max(0, ...waits));
  result.frags = await page.evaluate(() => (window.onair && Array.isArray(window.onair.frags)
    ? window.onair.frags.slice(-2000) : [])).catch(() => []);
  result.levels_seen = [...levels].sort((a, b) => a - b);
  collect(result, last);

  if (last.mediaError) result.reason = last.mediaError;
  else if (!(result.advanced > 0)) result.reason = 'currentTime did not advance';
  else if (opts.stallFree && result.stalls > 0) result.reason = `${result.stalls} stall(s) longer than ${STALL_MS} ms`;
  result.ok = result.reason === '';
  await screenshot(page, opts);
  return finish(result, guard);
}

function collect(result, s) {
  for (const e of s.playerErrors) result.errors.push(`player: ${e}`);
  if (s.mediaError) result.errors.push(s.mediaError);
  result.stats = s.stats;
}

async function screenshot(page, opts) {
  if (opts.screenshot) await page.screenshot({ path: opts.screenshot }).catch((err) => {
    process.stderr.write(`play.mjs: screenshot: ${err.message}\n`);
  });
}

async function finish(result, guard) {
  clearTimeout(guard);
  await cleanup();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => harnessFailure(`got ${sig}`));

main().catch((err) => harnessFailure(err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : String(err)));
