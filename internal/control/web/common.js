// Helpers shared by the dashboard pages. Plain ES module, no dependencies.

/** An API answer other than 2xx; message is the server's {"error"}. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET an API path and return its JSON. The session cookie rides along. */
export async function getJSON(path) {
  const resp = await fetch(path, {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!resp.ok) {
    let msg = `${resp.status} ${resp.statusText}`;
    try {
      const body = await resp.json();
      if (body && body.error) msg = body.error;
    } catch { /* not JSON */ }
    throw new ApiError(resp.status, msg);
  }
  return resp.json();
}

/** Create an element: el('a', {href: '/x', class: 'y'}, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Bits per second as "6.0 Mb/s" or "640 kb/s". */
export function fmtBitrate(bps) {
  if (!bps || bps <= 0) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mb/s`;
  return `${Math.round(bps / 1e3)} kb/s`;
}

/** Frame rate as "30" or "29.97". */
export function fmtFps(fps) {
  if (!fps || fps <= 0) return '–';
  return Math.abs(fps - Math.round(fps)) < 0.005 ? String(Math.round(fps)) : fps.toFixed(2);
}

/** "1920x1080 · 30 fps · 6.0 Mb/s" from an API input, leaving out unknowns. */
export function fmtInput(input) {
  if (!input) return '–';
  const parts = [];
  if (input.codec) parts.push(input.codec);
  if (input.width && input.height) parts.push(`${input.width}x${input.height}`);
  if (input.fps) parts.push(`${fmtFps(input.fps)} fps`);
  if (input.bitrate) parts.push(fmtBitrate(input.bitrate));
  return parts.length ? parts.join(' · ') : '–';
}

/** Seconds as "3.2 s", or "–" when unknown. */
export function fmtSeconds(s) {
  return Number.isFinite(s) ? `${s.toFixed(1)} s` : '–';
}

/** Set a state badge element to idle / live / stopped. */
export function setBadge(node, state) {
  node.hidden = false;
  node.className = `badge ${state || ''}`;
  node.textContent = state || 'unknown';
}

/** Show a message in a banner element; null hides it. */
export function showBanner(node, message) {
  node.hidden = !message;
  node.textContent = message || '';
}

/** The hint for API refusals a person can fix. */
export function explain(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    return `${err.message} (open the dashboard as ${location.origin}/?token=OPERATOR_TOKEN)`;
  }
  return err.message || String(err);
}
