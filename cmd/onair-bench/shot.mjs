// shot.mjs: take timed screenshots of a playing onair channel page.
//
//   node shot.mjs --web WEBDIR --url URL --out DIR [--shots 3] [--warmup 8]
//
// Opens URL (loopback only) in /usr/bin/chromium via playwright-core from
// WEBDIR/node_modules, waits until the <video> plays, waits --warmup
// seconds, then takes --shots screenshots one second apart. For each it
// records the wall clock (ms since the Unix epoch) just before and just
// after page.screenshot, hls.js's latency (window.onair.stats()) and the
// box the video picture occupies in the page (object-fit: contain) just
// before. Prints one JSON line: {ok, reason, shots: [{file, before_ms,
// after_ms, latency_s, box: {x, y, w, h}}]}. Written for onair-bench; exit
// 0 when it could judge, 2 on a harness failure.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    web: { type: 'string' }, url: { type: 'string' }, out: { type: 'string' },
    shots: { type: 'string', default: '3' }, warmup: { type: 'string', default: '8' },
  },
  strict: true,
});
const loopback = (u) => {
  try {
    const h = new URL(u).hostname;
    return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
  } catch { return false; }
};
if (!o.web || !o.url || !o.out || !loopback(o.url)) {
  process.stdout.write(`${JSON.stringify({ ok: false, reason: 'need --web, --out and a loopback --url' })}\n`);
  process.exit(2);
}
const require = createRequire(join(o.web, 'package.json'));
const { chromium } = require('playwright-core');
const dir = mkdtempSync(join(tmpdir(), 'onair-shot-'));
let ctx = null;
// bail closes the browser (bounded) and exits with a harness failure.
async function bail() {
  if (ctx) await Promise.race([ctx.close().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
  rmSync(dir, { recursive: true, force: true });
  process.exit(2);
}
const guard = setTimeout(bail, 120000);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, bail);
const result = { ok: false, reason: '', shots: [] };
try {
  ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  await ctx.route('**/*', (r) => (loopback(r.request().url()) || /^(data|blob):/.test(r.request().url())
    ? r.continue() : r.abort('blockedbyclient')).catch(() => {}));
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: 20000 });
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && !v.paused && v.currentTime > 0.5;
  }, null, { timeout: 30000, polling: 100 });
  await new Promise((r) => setTimeout(r, Number(o.warmup) * 1000));
  for (let i = 0; i < Number(o.shots); i++) {
    const { latency, box } = await page.evaluate(() => {
      const v = document.querySelector('video');
      const r = v.getBoundingClientRect();
      const k = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      const w = v.videoWidth * k;
      const h = v.videoHeight * k;
      return {
        latency: window.onair && window.onair.stats ? window.onair.stats().latency : null,
        box: { x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, w, h },
      };
    });
    const file = join(o.out, `shot-${i + 1}.png`);
    const before = Date.now();
    await page.screenshot({ path: file });
    const after = Date.now();
    result.shots.push({ file, before_ms: before, after_ms: after, latency_s: latency, box });
    await new Promise((r) => setTimeout(r, 1000));
  }
  result.ok = true;
} catch (err) {
  result.reason = String(err && err.message ? err.message.split('\n')[0] : err);
} finally {
  if (ctx) await Promise.race([ctx.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  rmSync(dir, { recursive: true, force: true });
  clearTimeout(guard);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
