// Player page: plays one channel with hls.js (default) or dash.js
// (?player=dash), with a rendition picker, live latency and LL-HLS parts.
// Tests drive it through window.onair (see below).
import { getJSON, el, fmtBitrate, fmtInput, fmtSeconds, setBadge, explain } from './common.js';

const REFRESH_MS = 2000;
const STATS_MS = 500;
const MAX_EVENTS = 300;   // kept in window.onair.events
const MAX_EVENT_ROWS = 60; // shown in the page

const params = new URLSearchParams(location.search);
const name = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop());
const kind = params.get('player') === 'dash' ? 'dash' : 'hls';
const $ = (id) => document.getElementById(id);
const video = $('video');

// The player adapter fills these in; defaults mean "unknown".
let adapter = {
  latency: () => null,    // seconds behind live, best estimate
  latencyNote: () => '',  // how latency was measured
  level: () => -1,        // index into onair.levels, -1 unknown
  auto: () => true,       // ABR on
  select: () => {},       // select(index) or select(-1) for Auto
  parts: () => null,      // LL-HLS part info text, null when not LL
};
let started = false;

/**
 * window.onair is the page's test interface:
 *   player  the hls.js or dash.js instance
 *   kind    "hls" or "dash"
 *   levels  [{index, name, width, height, bitrate}] as in the picker
 *   events  [{t, type, detail}] player and media events (t: seconds since load)
 *   errors  [{t, message, fatal}] player errors
 *   stats() {currentTime, latency, level, buffered, auto, width, height, droppedFrames}
 */
const onair = { player: null, kind, channel: name, levels: [], events: [], errors: [], stats };
window.onair = onair;

function stats() {
  const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
  return {
    currentTime: video.currentTime,
    latency: adapter.latency(),
    level: adapter.level(),
    buffered: bufferAhead(),
    auto: adapter.auto(),
    width: video.videoWidth,
    height: video.videoHeight,
    droppedFrames: q ? q.droppedVideoFrames : null,
  };
}

function bufferAhead() {
  const t = video.currentTime;
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= t + 0.2 && t <= b.end(i)) return b.end(i) - t;
  }
  return 0;
}

// ---- events and errors ----

const eventList = $('events');

function logEvent(type, detail = '', isError = false) {
  const t = +(performance.now() / 1000).toFixed(3);
  onair.events.push({ t, type, detail });
  if (onair.events.length > MAX_EVENTS) onair.events.shift();
  const li = el('li', { class: isError ? 'error' : null },
    el('span', { class: 't' }, t.toFixed(1)), type, detail ? ` ${detail}` : '');
  eventList.prepend(li);
  while (eventList.childElementCount > MAX_EVENT_ROWS) eventList.lastElementChild.remove();
}

function logError(message, fatal) {
  const t = +(performance.now() / 1000).toFixed(3);
  onair.errors.push({ t, message, fatal });
  logEvent(fatal ? 'error' : 'warning', message, true);
}

function overlay(message, code) {
  const box = $('overlay');
  video.controls = !message;
  if (!message) {
    box.hidden = true;
    return;
  }
  box.replaceChildren(el('div', {}, message, code ? el('div', {}, ' ', el('code', {}, code)) : null));
  box.hidden = false;
}

for (const type of ['loadedmetadata', 'playing', 'waiting', 'stalled', 'ended', 'resize']) {
  video.addEventListener(type, () => {
    const detail = type === 'resize' || type === 'loadedmetadata' ? `${video.videoWidth}x${video.videoHeight}` : '';
    logEvent(type, detail);
  });
}
video.addEventListener('error', () => {
  const e = video.error;
  logError(`media error ${e ? e.code : ''} ${e && e.message ? e.message : ''}`.trim(), true);
});

// ---- channel info ----

function renderChannel(ch) {
  setBadge($('state'), ch.state);
  $('i-state').textContent = `${ch.state}${ch.enabled ? '' : ' (disabled)'}${ch.low_latency ? ' · low latency' : ''}`;
  $('i-input').textContent = ch.input ? `${fmtInput(ch.input)} (${ch.input.source})` : 'no input';
  const a = ch.input && ch.input.audio;
  $('i-audio').textContent = a ? `${a.codec} ${a.sample_rate} Hz · ${a.channels} ch` : '–';
  $('i-renditions').textContent = (ch.renditions || [])
    .map((r) => `${r.name} ${r.width && r.height ? `${r.width}x${r.height}` : ''} ${fmtBitrate(r.bandwidth)}`.replace(/\s+/g, ' ').trim())
    .join(', ') || '–';
  const t = ch.transcoder;
  $('i-transcoder').textContent = t
    ? `${t.state}${t.speed ? ` · ${t.speed.toFixed(2)}x` : ''}${t.restarts ? ` · ${t.restarts} restarts` : ''}`
    : '–';
  const ins = ch.inputs;
  $('i-inputs').textContent = ins
    ? `${ins.active || 'none'} active${ins.manual ? ` (chosen: ${ins.manual})` : ''}`
    : '–';
  $('i-pipelines').textContent = (ch.pipeline_states || [])
    .map((p) => `${p.name.toUpperCase()} ${p.role} · ${p.state}${p.encoder_down ? ` · encoder down: ${p.encoder_down}` : ''}` +
      `${p.manifest_age_seconds != null ? ` · age ${p.manifest_age_seconds.toFixed(1)} s` : ''}`)
    .join('; ') || `${ch.pipelines || 'single'}`;
  for (const [id, url] of [['u-hls', ch.playback.hls], ['u-dash', ch.playback.dash]]) {
    $(id).textContent = url || '–';
    if (url) $(id).href = url;
  }
}

async function loadChannel() {
  return getJSON(`/api/v1/channels/${encodeURIComponent(name)}`);
}

// renderOpsEvents lists the channel's newest decisions and alarms (input
// switches, pipeline failovers, manifest-age alarms) from the event log.
async function renderOpsEvents() {
  const evs = await getJSON(`/api/v1/events?channel=${encodeURIComponent(name)}&limit=10`);
  const list = $('ops-events');
  list.replaceChildren(...(evs || []).map((e) =>
    el('li', {}, el('span', { class: 'mono' }, new Date(e.at).toLocaleTimeString()), ` ${e.kind}: ${e.reason}`)));
}

// ---- players ----

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = el('script', { src });
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

function fillPicker() {
  const sel = $('rendition');
  sel.replaceChildren(el('option', { value: 'auto' }, 'Auto'),
    ...onair.levels.map((l) => el('option', { value: l.index },
      `${l.name}${l.width && l.height ? ` · ${l.width}x${l.height}` : ''} · ${fmtBitrate(l.bitrate)}`)));
}

$('rendition').addEventListener('change', (e) => {
  const v = e.target.value;
  const index = v === 'auto' ? -1 : Number(v);
  logEvent('select', index < 0 ? 'auto' : onair.levels[index]?.name);
  adapter.select(index);
});

function levelName(i) {
  const l = onair.levels[i];
  return l ? l.name : `level ${i}`;
}

function startHls(url, lowLatency) {
  const Hls = window.Hls;
  if (!Hls.isSupported()) {
    overlay('This browser has no Media Source Extensions; hls.js cannot play here.');
    logError('hls.js not supported', true);
    return;
  }
  const hls = new Hls({ lowLatencyMode: lowLatency, backBufferLength: 30 });
  onair.player = hls;
  let details = null;
  let partsLoaded = 0;

  hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
    onair.levels = hls.levels.map((l, index) => ({
      index, name: l.name || (l.height ? `${l.height}p` : `level ${index}`),
      width: l.width, height: l.height, bitrate: l.bitrate,
    }));
    fillPicker();
    logEvent('manifest', `${d.levels.length} levels`);
    video.play().catch(() => {});
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => logEvent('rendition', levelName(d.level)));
  hls.on(Hls.Events.LEVEL_UPDATED, (_, d) => { details = d.details; });
  hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) partsLoaded++; });
  hls.on(Hls.Events.ERROR, (_, d) => {
    const code = d.response && d.response.code ? ` HTTP ${d.response.code}` : '';
    const msg = `hls.js ${d.type}/${d.details}${code}`;
    if (!d.fatal) {
      logEvent('warning', msg);
      return;
    }
    logError(msg, true);
    if (d.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
    } else if (d.type === Hls.ErrorTypes.NETWORK_ERROR) {
      setTimeout(() => hls.startLoad(), 2000);
    } else {
      overlay(`Playback failed: ${msg}`);
    }
  });

  adapter = {
    latency: () => {
      // PROGRAM-DATE-TIME is the ingest wall clock, so this is the delay
      // since the frame reached the server; without it, distance to the
      // playlist's live edge.
      const pd = hls.playingDate;
      if (pd) return (Date.now() - pd.getTime()) / 1000;
      const l = hls.latency;
      return Number.isFinite(l) && l > 0 ? l : null;
    },
    latencyNote: () => {
      const target = hls.targetLatency;
      const src = hls.playingDate ? 'since ingest' : 'behind edge';
      return Number.isFinite(target) && target > 0 ? `${src} · target ${target.toFixed(1)} s` : src;
    },
    level: () => hls.currentLevel,
    auto: () => hls.autoLevelEnabled,
    select: (i) => { hls.currentLevel = i; },
    parts: () => {
      if (!lowLatency) return null;
      if (!details || !details.partList) return 'none in playlist';
      return `${details.partTarget.toFixed(2)} s · ${details.partList.length} listed · ${partsLoaded} loaded`;
    },
  };
  hls.loadSource(url);
  hls.attachMedia(video);
}

function startDash(url) {
  const dashjs = window.dashjs;
  const player = dashjs.MediaPlayer().create();
  onair.player = player;
  const abr = (on) => player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: on } } } });
  player.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    // Without <UTCTiming> in the MPD dash.js would ask a third-party time
    // server; ask the server this page came from instead (its Date header).
    streaming: {
      utcSynchronization: {
        defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-head:2014', value: `${location.origin}/` },
      },
    },
  });
  abr(true);
  let auto = true;
  let reps = [];
  const ev = dashjs.MediaPlayer.events;

  player.on(ev.STREAM_INITIALIZED, () => {
    reps = player.getRepresentationsByType('video') || [];
    onair.levels = reps.map((r, index) => ({
      index, name: r.height ? `${r.height}p` : r.id, width: r.width, height: r.height, bitrate: r.bandwidth, id: r.id,
    }));
    fillPicker();
    logEvent('manifest', `${reps.length} video representations`);
  });
  player.on(ev.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType === 'video' && e.newRepresentation) {
      logEvent('rendition', levelName(reps.findIndex((r) => r.id === e.newRepresentation.id)));
    }
  });
  player.on(ev.ERROR, (e) => {
    const err = e.error || {};
    logError(`dash.js error ${err.code ?? ''} ${err.message ?? ''}`.trim(), true);
  });

  adapter = {
    latency: () => {
      const l = player.getCurrentLiveLatency();
      return Number.isFinite(l) && l > 0 ? l : null;
    },
    latencyNote: () => {
      const t = player.getTargetLiveDelay();
      return Number.isFinite(t) && t > 0 ? `target ${t.toFixed(1)} s` : '';
    },
    level: () => {
      const cur = player.getCurrentRepresentationForType('video');
      return cur ? reps.findIndex((r) => r.id === cur.id) : -1;
    },
    auto: () => auto,
    select: (i) => {
      auto = i < 0;
      abr(auto);
      if (!auto && reps[i]) player.setRepresentationForTypeById('video', reps[i].id, true);
    },
    parts: () => null,
  };
  player.initialize(video, url, true);
}

// signedPlayback asks the API for a playback token of a signed channel
// and returns its playback URLs (the edge turns the token into a cookie
// for the playlists and segments that follow).
async function signedPlayback() {
  const resp = await fetch(`/api/v1/channels/${encodeURIComponent(name)}/tokens`, {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
  });
  if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
  const tok = await resp.json();
  logEvent('token', `signed playback token until ${tok.expires}`);
  return tok.playback;
}

async function startPlayer(ch, lowLatency) {
  started = true;
  let playback = ch.playback;
  if (ch.access === 'signed') {
    try {
      playback = await signedPlayback();
    } catch (err) {
      overlay(`This channel plays only with a signed token, and the API did not issue one: ${explain(err)}`);
      logError(`token: ${explain(err)}`, true);
      return;
    }
  }
  const url = kind === 'dash' ? playback.dash : playback.hls;
  if (!url) {
    overlay(`The channel has no ${kind.toUpperCase()} playback URL.`);
    return;
  }
  const lib = kind === 'dash' ? 'dash.all.min.js' : 'hls.min.js';
  try {
    await loadScript(`/assets/vendor/${lib}`);
  } catch {
    overlay(`The ${kind === 'dash' ? 'dash.js' : 'hls.js'} player library is missing from this build. ` +
      'Run scripts/vendor-web.sh, then rebuild onair:', 'bash scripts/vendor-web.sh');
    logError(`player library /assets/vendor/${lib} missing: run scripts/vendor-web.sh`, true);
    return;
  }
  overlay(null);
  logEvent('player', `${kind === 'dash' ? 'dash.js' : 'hls.js'} ${url}`);
  if (kind === 'dash') startDash(url);
  else startHls(url, lowLatency);
}

function renderStats() {
  const s = stats();
  $('s-latency').replaceChildren(fmtSeconds(s.latency), ' ', el('small', {}, adapter.latencyNote()));
  $('s-buffer').textContent = fmtSeconds(s.buffered);
  const level = s.level >= 0 ? levelName(s.level) : '–';
  $('s-level').replaceChildren(level, ' ', el('small', {}, s.auto ? 'auto' : 'manual'));
  $('s-res').textContent = s.width ? `${s.width}x${s.height}` : '–';
  $('s-dropped').textContent = s.droppedFrames ?? '–';
  const parts = adapter.parts();
  $('s-parts-box').hidden = parts === null;
  if (parts !== null) $('s-parts').textContent = parts;
}

function setupToggles(lowLatency) {
  const ll = params.has('ll') ? `&ll=${encodeURIComponent(params.get('ll'))}` : '';
  $('player-hls').href = `?player=hls${ll}`;
  $('player-dash').href = '?player=dash';
  $(`player-${kind}`).classList.add('on');
  $('ll-toggle').hidden = kind !== 'hls';
  $(lowLatency ? 'll-on' : 'll-off').classList.add('on');
}

function tickClock() {
  const d = new Date();
  $('clock').textContent = `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0').slice(0, 1)}`;
}

async function main() {
  document.title = `onair · ${name}`;
  $('name').textContent = name;
  setInterval(tickClock, 100);
  let ch;
  try {
    ch = await loadChannel();
  } catch (err) {
    const msg = err.status === 404 ? `There is no channel named “${name}”.` : `Cannot load the channel: ${explain(err)}`;
    overlay(msg);
    logError(msg, true);
    return;
  }
  // ?ll=1 / ?ll=0 override the channel's own setting.
  const lowLatency = params.has('ll') ? params.get('ll') === '1' : !!ch.low_latency;
  setupToggles(lowLatency);
  renderChannel(ch);
  setInterval(renderStats, STATS_MS);

  const maybeStart = (c) => {
    if (started) return;
    // The slate plays while both inputs are lost: the channel is playable.
    if (c.state === 'live' || (c.inputs && c.inputs.active === 'slate')) startPlayer(c, lowLatency);
    else if (c.state === 'stopped') overlay('This channel is stopped. Start it with: ', `onair channel start ${name}`);
    else overlay('Waiting for the broadcaster to go live…');
  };
  maybeStart(ch);
  setInterval(async () => {
    try {
      const c = await loadChannel();
      renderChannel(c);
      maybeStart(c);
      await renderOpsEvents();
    } catch (err) {
      logEvent('warning', `channel refresh: ${explain(err)}`);
    }
  }, REFRESH_MS);
}

main();
