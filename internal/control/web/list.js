// Channel list: polls GET /api/v1/channels every 2 s and redraws the table.
import { getJSON, el, fmtInput, setBadge, showBanner, explain } from './common.js';

const REFRESH_MS = 2000;
const table = document.getElementById('channels');
const tbody = table.querySelector('tbody');
const empty = document.getElementById('empty');
const banner = document.getElementById('error');
const updated = document.getElementById('updated');

function row(ch) {
  const page = `/channels/${encodeURIComponent(ch.name)}`;
  const state = el('span');
  setBadge(state, ch.state);
  const renditions = (ch.renditions || [])
    .map((r) => (r.height ? `${r.height}p` : r.name))
    .join(' · ');
  const links = el('td', { class: 'links' },
    el('a', { href: page }, 'Play'),
    el('a', { href: `${page}?player=dash` }, 'DASH player'),
    ch.playback?.hls && el('a', { href: ch.playback.hls, class: 'mono' }, 'm3u8'),
    ch.playback?.dash && el('a', { href: ch.playback.dash, class: 'mono' }, 'mpd'));
  return el('tr', { 'data-channel': ch.name },
    el('td', { class: 'name' }, el('a', { href: page }, ch.name),
      ch.low_latency ? el('span', { class: 'muted' }, ' · LL') : null),
    el('td', {}, state),
    el('td', {}, fmtInput(ch.input)),
    el('td', {}, renditions || '–'),
    links);
}

async function refresh() {
  try {
    const { channels } = await getJSON('/api/v1/channels');
    tbody.replaceChildren(...channels.map(row));
    table.hidden = channels.length === 0;
    empty.hidden = channels.length !== 0;
    showBanner(banner, null);
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    showBanner(banner, `Cannot load channels: ${explain(err)}`);
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
