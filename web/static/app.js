// kamsidecar status page: renders api/state, refreshes it on every
// "state" event of the events stream (and every 10 s for the latency
// history). No framework, no external resources.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function ms(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  return (seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1) + ' ms';
}

// sparkline draws the RTTs of the history, failures as red dots.
function sparkline(history) {
  const w = 120, h = 24, pad = 2;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const base = document.createElementNS(SVG, 'line');
  base.setAttribute('class', 'base');
  base.setAttribute('x1', 0); base.setAttribute('x2', w);
  base.setAttribute('y1', h - pad); base.setAttribute('y2', h - pad);
  svg.append(base);
  if (!history || history.length === 0) return svg;
  const max = Math.max(...history.map(r => r.rtt), 0.001);
  const step = history.length > 1 ? (w - 2 * pad) / (history.length - 1) : 0;
  const pts = [];
  history.forEach((r, i) => {
    const x = pad + i * step;
    if (r.class === 'reply' && r.code >= 200 && r.code < 300) {
      pts.push(`${x.toFixed(1)},${(h - pad - (r.rtt / max) * (h - 2 * pad)).toFixed(1)}`);
    } else {
      const c = document.createElementNS(SVG, 'circle');
      c.setAttribute('class', 'fail');
      c.setAttribute('cx', x.toFixed(1)); c.setAttribute('cy', pad + 1); c.setAttribute('r', 2);
      svg.append(c);
    }
  });
  if (pts.length > 0) {
    const pl = document.createElementNS(SVG, 'polyline');
    pl.setAttribute('points', pts.join(' '));
    svg.append(pl);
  }
  const title = document.createElementNS(SVG, 'title');
  title.textContent = history.map(r => `${r.code} ${r.reason} ${ms(r.rtt)}`).join('\n');
  svg.append(title);
  return svg;
}

function lastRTT(history) {
  return history && history.length ? history[history.length - 1].rtt : null;
}

function avgRTT(history) {
  const ok = (history || []).filter(r => r.class === 'reply');
  if (ok.length === 0) return null;
  return ok.reduce((a, r) => a + r.rtt, 0) / ok.length;
}

function renderSets(st) {
  const box = document.getElementById('sets');
  if (!st.sets.length) {
    box.replaceChildren(el('p', { class: 'empty' }, 'no dispatcher sets'));
    return;
  }
  const out = [];
  for (const set of st.sets) {
    const rows = set.destinations.map(d => {
      // The history's mean where there is one (dispatcher's own AVG counts
      // whole milliseconds), else dispatcher's AVG.
      let avg = avgRTT(d.history);
      if (avg === null && st.latency_stats && d.latency && d.latency.count > 0) avg = d.latency.avg;
      return el('tr', { class: 'dest st-' + d.status, 'data-kind': 'dispatcher', 'data-setid': set.id, 'data-uri': d.uri, 'data-status': d.status },
        el('td', { class: 'uri' }, d.uri),
        el('td', {}, el('span', { class: 'badge' }, d.status), el('span', { class: 'flags' }, d.state)),
        el('td', { class: 'reason' }, d.code ? `${d.code} ${d.reason}` : d.reason || '–'),
        el('td', { class: 'num' }, ms(lastRTT(d.history))),
        el('td', { class: 'num' }, ms(avg)),
        el('td', {}, sparkline(d.history)),
        el('td', { class: 'num' }, d.priority),
        el('td', {}, d.duid || ''));
    });
    out.push(el('h3', {}, `Set ${set.id}`),
      el('table', { class: 'set', 'data-setid': set.id },
        el('thead', {}, el('tr', {}, ...['Destination', 'State', 'Reason', 'Last', 'Avg', 'History', 'Priority', 'DUID'].map(t => el('th', {}, t)))),
        el('tbody', {}, ...rows)));
  }
  box.replaceChildren(...out);
}

function renderKeepalive(st) {
  const box = document.getElementById('ka');
  if (!st.keepalive.length) {
    box.replaceChildren(el('p', { class: 'empty' }, 'no keepalive destinations'));
    return;
  }
  const rows = st.keepalive.map(d => el('tr', { class: 'dest st-' + d.state, 'data-kind': 'keepalive', 'data-uri': d.uri, 'data-owner': d.owner, 'data-status': d.state },
    el('td', { class: 'uri' }, d.uri),
    el('td', {}, d.owner),
    el('td', {}, el('span', { class: 'badge' }, d.state), d.stopped ? el('span', { class: 'flags' }, 'stopped') : null),
    el('td', { class: 'reason' }, d.code ? `${d.code} ${d.reason}` : d.reason || '–'),
    el('td', { class: 'num' }, d.last_checked ? ms(d.rtt) : '–'),
    el('td', { class: 'num' }, ms(avgRTT(d.history))),
    el('td', {}, sparkline(d.history))));
  box.replaceChildren(el('table', { class: 'keepalive' },
    el('thead', {}, el('tr', {}, ...['Destination', 'Owner', 'State', 'Reason', 'Last', 'Avg', 'History'].map(t => el('th', {}, t)))),
    el('tbody', {}, ...rows)));
}

let loading = false, again = false;

async function refresh() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    const r = await fetch('api/state', { cache: 'no-store' });
    if (!r.ok) throw new Error(r.status);
    const st = await r.json();
    renderSets(st);
    renderKeepalive(st);
    document.getElementById('updated').textContent = 'updated ' + new Date(st.time).toLocaleTimeString();
  } catch (e) {
    document.getElementById('updated').textContent = 'cannot load state: ' + e.message;
  } finally {
    loading = false;
    if (again) { again = false; refresh(); }
  }
}

function logEvent(e) {
  const list = document.getElementById('events');
  const who = e.kind === 'dispatcher' ? `set ${e.setid} ${e.uri}` : `${e.uri} (${e.owner})`;
  const li = el('li', { class: e.down ? 'down' : e.up ? 'up' : '' },
    `${new Date(e.time).toLocaleTimeString()} ${who}: ${e.old} → ${e.new} (${e.code} ${e.reason})`);
  list.prepend(li);
  while (list.children.length > 20) list.lastChild.remove();
}

function connect() {
  const conn = document.getElementById('conn');
  if (!window.EventSource) { conn.textContent = 'no live updates'; return; }
  const es = new EventSource('events');
  es.onopen = () => { conn.textContent = 'live'; conn.className = 'conn conn-ok'; refresh(); };
  es.onerror = () => { conn.textContent = 'reconnecting…'; conn.className = 'conn conn-err'; };
  es.addEventListener('state', m => {
    try { logEvent(JSON.parse(m.data)); } catch (_) { /* ignore a bad line */ }
    refresh();
  });
}

// ?live=0 renders the snapshot only, without the events stream and the
// periodic refresh: a headless browser's --dump-dom and --screenshot wait
// for the network to go idle, which an open stream never does.
const live = new URLSearchParams(location.search).get('live') !== '0';
refresh();
if (live) {
  connect();
  setInterval(refresh, 10000);
} else {
  const conn = document.getElementById('conn');
  conn.textContent = 'snapshot';
  conn.className = 'conn conn-ok';
}
