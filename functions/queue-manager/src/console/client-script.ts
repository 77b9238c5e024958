/**
 * The console's browser script, as a string (see page.ts). Plain ES2020, no framework: the
 * server pushes every workflow change over one stream (Server-Sent Events read with
 * fetch(), so the bearer token goes in a header); the page keeps the newest version of each
 * workflow and redraws at most once per frame. Nothing here polls: the timeline of the
 * selected workflow is read once, then extended when a change of that workflow arrives.
 * Text from the server is only ever set as textContent, never parsed as HTML.
 */

export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var BASE = location.pathname.replace(/\/console\/?$/, '');
  var FINAL = { completed: true, error: true, stopped: true };
  var TOKEN_KEY = 'streamforge.console.token';
  var workflows = new Map();
  var rows = new Map();
  var selected = null;
  var timeline = { id: null, events: [], seen: new Set(), next: null, loading: false, again: false };
  var stream = null;
  var backoff = 500;
  var drawQueued = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'cls') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i] != null) node.append(arguments[i]);
    return node;
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function headers(json) {
    var h = {};
    if (json) h['content-type'] = 'application/json';
    if (token()) h.authorization = 'Bearer ' + token();
    return h;
  }
  function time(ms) { return ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) : ''; }
  function fmt(n) { return n == null ? '' : Number(n).toLocaleString('en-US').replace(/,/g, ' '); }

  // --- token ---------------------------------------------------------------------------
  function askToken(reason) {
    setConnection('unauthorized', 'token needed');
    $('change-token').hidden = false;
    $('token-reason').textContent = reason;
    $('token-input').value = '';
    if (!$('token-dialog').open) $('token-dialog').showModal();
  }
  $('token-form').addEventListener('submit', function () {
    sessionStorage.setItem(TOKEN_KEY, $('token-input').value.trim());
    $('change-token').hidden = false;
    connect();
  });
  $('change-token').addEventListener('click', function () { askToken('Enter another API token.'); });
  if (token()) $('change-token').hidden = false;

  async function api(method, path, body) {
    var response = await fetch(BASE + path, { method: method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
    var text = await response.text();
    var parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { message: text }; }
    if (response.status === 401) askToken((parsed && parsed.message) || 'The API wants a bearer token.');
    if (!response.ok) {
      var error = new Error((parsed && parsed.message) || (method + ' ' + path + ' answered ' + response.status));
      error.status = response.status;
      throw error;
    }
    return parsed;
  }

  // --- the stream ----------------------------------------------------------------------
  function setConnection(state, label) {
    var c = $('connection');
    c.className = 'conn conn-' + state;
    c.dataset.state = state;
    c.textContent = label;
  }

  async function connect() {
    if (stream) stream.abort();
    var controller = new AbortController();
    stream = controller;
    setConnection('connecting', 'connecting…');
    var response;
    try {
      response = await fetch(BASE + '/console/stream', { headers: headers(false), signal: controller.signal, cache: 'no-store' });
    } catch (e) {
      if (stream === controller) reconnectLater();
      return;
    }
    if (response.status === 401) {
      var body = await response.json().catch(function () { return {}; });
      askToken(token() ? 'The token was not accepted: ' + (body.message || 'unauthorized') : (body.message || 'The API wants a bearer token.'));
      return;
    }
    if (!response.ok || !response.body) { reconnectLater(); return; }
    setConnection('live', 'live');
    backoff = 500;
    var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    var buffer = '';
    try {
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buffer += chunk.value;
        var end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          onMessage(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) { /* aborted or cut: reconnect below */ }
    if (stream === controller) reconnectLater();
  }

  function reconnectLater() {
    setConnection('reconnecting', 'reconnecting…');
    var wait = backoff;
    backoff = Math.min(backoff * 2, 10000);
    setTimeout(connect, wait);
  }

  function onMessage(block) {
    var event = 'message';
    var data = '';
    block.split('\n').forEach(function (line) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    });
    if (!data) return;
    var payload = JSON.parse(data);
    if (event === 'snapshot') {
      payload.workflows.forEach(apply);
      showPlatform(payload.platform);
    } else if (event === 'workflow') {
      apply(payload);
    } else if (event === 'platform') {
      showPlatform(payload);
    } else if (event === 'failure') {
      showResult(payload.message, true);
    }
  }

  function apply(w) {
    var known = workflows.get(w.queue_id);
    if (known && known.version > w.version) return;
    workflows.set(w.queue_id, w);
    if (w.queue_id === selected) refreshTimeline();
    queueDraw();
  }

  function queueDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(function () { drawQueued = false; draw(); });
  }

  // --- workflows table -----------------------------------------------------------------
  function recordsOf(w) {
    if (w.stored && w.stored.records_written != null) return w.stored.records_written;
    var best = null;
    Object.keys(w.progress || {}).forEach(function (s) {
      var r = w.progress[s].records_written;
      if (r != null && (best == null || r > best)) best = r;
    });
    return best;
  }
  function rejectedOf(w) {
    if (w.stored && w.stored.rejected) return w.stored.rejected;
    var most = 0;
    Object.keys(w.progress || {}).forEach(function (s) { most = Math.max(most, w.progress[s].rejected || 0); });
    return most;
  }
  function progressOf(w) {
    var found = null;
    Object.keys(w.progress || {}).forEach(function (s) {
      var p = w.progress[s].progress;
      if (p && p.total) {
        var share = p.done / p.total;
        if (!found || share < found.share) found = { share: share, text: p.done + '/' + p.total + ' ' + p.unit };
      }
    });
    if (!found && FINAL[w.status]) found = { share: w.status === 'completed' ? 1 : 0, text: '' };
    return found;
  }
  function statusBadge(status) { return el('span', { cls: 'status status-' + status, text: status }); }

  // A row and its cells are built once; a redraw only changes what the cells hold. Chromium
  // sends a click to the common ancestor when the pressed element leaves the document before
  // the release, so a Stop button detached by a redraw would select the row instead of stopping.
  function rowFor(w) {
    var row = rows.get(w.queue_id);
    if (!row) {
      row = el('tr', { cls: 'workflow', 'data-queue-id': w.queue_id });
      row.addEventListener('click', function (e) { if (e.target.tagName !== 'BUTTON') select(w.queue_id); });
      var stop = el('button', { cls: 'stop', type: 'button', 'data-action': 'stop', text: 'Stop' });
      stop.addEventListener('click', function () { stopWorkflow(w.queue_id, stop); });
      row.parts = {
        type: el('td'), range: el('td'), status: el('td', { cls: 'status-cell' }), progress: el('td', { cls: 'progress' }),
        records: el('td', { cls: 'num records' }), updated: el('td'), stop: stop,
      };
      var c = row.parts;
      row.append(el('td', { cls: 'id' }, el('code', { text: w.queue_id })), c.type, c.range, c.status, c.progress, c.records, c.updated, el('td', null, stop));
      rows.set(w.queue_id, row);
    }
    var progress = progressOf(w);
    var bar = null;
    if (progress) {
      var fill = el('span');
      fill.style.width = Math.round(progress.share * 100) + '%';
      bar = el('span', null, el('span', { cls: 'bar' }, fill), progress.text);
    }
    var cells = row.parts;
    cells.type.textContent = w.type + (w.market && w.market !== 'spot' ? ' (' + w.market + ')' : '');
    cells.range.textContent = (w.time_range || '').replace(':', ' → ');
    cells.status.replaceChildren(statusBadge(w.status), w.error ? el('span', { cls: 'reason', text: w.error }) : '');
    cells.progress.replaceChildren(bar || '');
    var rejected = rejectedOf(w);
    cells.records.replaceChildren(fmt(recordsOf(w)), rejected ? el('span', { cls: 'rejected', text: ' (' + fmt(rejected) + ' rejected)' }) : '');
    cells.updated.textContent = time(w.updated_at);
    cells.stop.hidden = !!FINAL[w.status];
    row.classList.toggle('selected', w.queue_id === selected);
    return row;
  }

  function draw() {
    var list = Array.from(workflows.values()).sort(function (a, b) { return b.created_at - a.created_at || (a.queue_id < b.queue_id ? 1 : -1); });
    var body = $('workflow-rows');
    // Newest first; a new row is inserted in its place, rows already in place never move.
    list.map(rowFor).forEach(function (r, i) {
      if (body.children[i] !== r) body.insertBefore(r, body.children[i] || null);
    });
    while (body.children.length > list.length) body.lastChild.remove();
    $('no-workflows').hidden = list.length > 0;
    $('workflow-count').textContent = list.length ? '(' + list.length + ')' : '';
    if (selected) drawDetail();
  }

  async function stopWorkflow(id, button) {
    button.disabled = true;
    try {
      apply(await api('POST', '/workflows/' + encodeURIComponent(id) + '/stop'));
      showResult('stop requested for ' + id, false);
    } catch (e) {
      showResult('could not stop ' + id + ': ' + e.message, true);
      button.disabled = false;
    }
  }

  // --- detail and timeline -------------------------------------------------------------
  function select(id) {
    selected = id;
    timeline = { id: id, events: [], seen: new Set(), next: null, loading: false, again: false };
    $('timeline').replaceChildren();
    $('detail').hidden = false;
    refreshTimeline();
    draw();
  }

  function drawDetail() {
    var w = workflows.get(selected);
    if (!w) return;
    $('detail-id').textContent = w.queue_id;
    $('detail-status').replaceChildren(statusBadge(w.status));
    $('detail-summary').textContent = [w.symbol, w.type, w.market, w.time_range].filter(Boolean).join(' · ');
    $('detail-error').hidden = !w.error;
    $('detail-error').textContent = w.error || '';
    var letters = Object.keys(w.dead_letters || {}).map(function (s) {
      var d = w.dead_letters[s];
      return s + ' ' + d.total + (d.replayed ? ' (' + d.replayed + ' replayed)' : '');
    });
    $('detail-dead-letters').hidden = letters.length === 0;
    $('detail-dead-letters').textContent = letters.length ? 'Dead letters: ' + letters.join(', ') + ' · streamforge dlq ls --workflow ' + w.queue_id : '';
    $('detail-deadline').hidden = FINAL[w.status] || w.deadline_at == null;
    $('detail-deadline').textContent = w.deadline_at != null ? 'Ends in error at ' + time(w.deadline_at) + ' unless it moves first' : '';
    var services = (w.services || []).slice();
    Object.keys(w.progress || {}).forEach(function (s) { if (services.indexOf(s) < 0) services.push(s); });
    $('detail-services').replaceChildren.apply($('detail-services'), services.map(function (s) {
      var p = (w.progress || {})[s] || {};
      var pr = p.progress ? p.progress.done + (p.progress.total != null ? '/' + p.progress.total : '') + ' ' + p.progress.unit : '';
      return el('tr', null, el('td', { text: s }), el('td', null, p.status ? statusBadge(p.status) : el('span', { cls: 'muted', text: 'waiting' })),
        el('td', { text: pr }), el('td', { cls: 'num', text: fmt(p.records_written) }), el('td', { cls: 'num', text: p.rejected ? fmt(p.rejected) : '' }), el('td', { text: p.message || '' }));
    }));
  }

  async function refreshTimeline() {
    var t = timeline;
    if (!t.id) return;
    if (t.loading) { t.again = true; return; }
    t.loading = true;
    try {
      do {
        t.again = false;
        // The cursor names the last event read (time and id): nothing in its millisecond is skipped.
        var query = '?limit=5000' + (t.next ? '&after=' + encodeURIComponent(t.next) : '');
        var body = await api('GET', '/workflows/' + encodeURIComponent(t.id) + '/events' + query);
        if (timeline !== t) return;
        t.next = body.next;
        var fresh = body.events.filter(function (e) { return !t.seen.has(e.event_id); });
        fresh.forEach(function (e) { t.seen.add(e.event_id); t.events.push(e); });
        drawTimeline(fresh);
      } while (t.again);
    } catch (e) {
      showResult('timeline: ' + e.message, true);
    } finally {
      t.loading = false;
    }
  }

  function drawTimeline(fresh) {
    var list = $('timeline');
    var first = timeline.events.length ? eventTime(timeline.events[0]) : 0;
    fresh.forEach(function (e) {
      var ev = e.event || {};
      var parts = [];
      if (ev.message) parts.push(ev.message);
      if (ev.records_written != null && String(ev.message || '').indexOf(String(ev.records_written)) < 0) parts.push(fmt(ev.records_written) + ' records');
      if (ev.progress) parts.push(ev.progress.done + (ev.progress.total != null ? '/' + ev.progress.total : '') + ' ' + ev.progress.unit);
      if (ev.error && ev.error.message && parts.indexOf(ev.error.message) < 0) parts.push(ev.error.message);
      list.append(el('li', { 'data-status': ev.status },
        el('span', { cls: 't', text: '+' + ((eventTime(e) - first) / 1000).toFixed(2) + ' s' }),
        el('span', { cls: 'producer', text: ev.producer || '', title: ev.producer || '' }),
        el('span', null, statusBadge(ev.status || '?')),
        el('span', { text: parts.join(' · ') })));
    });
  }
  function eventTime(e) { var ev = e.event || {}; var s = ev.timestamp || ev.sent_at; return s ? s * 1000 : e.received_at; }

  // --- start form ----------------------------------------------------------------------
  function showResult(text, isError) {
    var r = $('form-result');
    r.textContent = text;
    r.className = isError ? 'error' : 'ok';
  }

  $('start-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    var f = e.target;
    var request = { symbol: f.symbol.value.trim().toUpperCase(), type: f.type.value.trim(), market: f.market.value };
    if (f.from.value || f.to.value) request.time_range = f.from.value + ':' + f.to.value;
    if (f.params.value.trim()) {
      try { request.params = JSON.parse(f.params.value); } catch (err) { showResult('params: not valid JSON (' + err.message + ')', true); return; }
    }
    $('start-button').disabled = true;
    try {
      var created = await api('POST', '/workflows', request);
      apply(created);
      select(created.queue_id);
      showResult('started ' + created.queue_id, false);
      $('form-result').dataset.queueId = created.queue_id;
    } catch (err) {
      showResult('not started: ' + err.message, true);
    } finally {
      $('start-button').disabled = false;
    }
  });
  (function defaultRange() {
    var today = new Date();
    var day = 86400000;
    var start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - day);
    $('start-form').from.value = start.toISOString().slice(0, 10);
    $('start-form').to.value = new Date(start.getTime() + day).toISOString().slice(0, 10);
  })();

  // --- local platform ------------------------------------------------------------------
  function showPlatform(p) {
    var section = $('platform');
    if (!p || !p.available || !p.status) { section.hidden = true; return; }
    section.hidden = false;
    var s = p.status;
    $('platform-functions').replaceChildren.apply($('platform-functions'), (s.functions || []).map(function (f) {
      var inFlight = 0;
      var cells = (f.instances || []).map(function (i) {
        inFlight += i.in_flight || 0;
        return el('span', { cls: 'instance instance-' + i.state, title: (i.url || '') + (i.pid ? ' pid ' + i.pid : ''), text: i.state });
      });
      var instances = el('td', { cls: 'instances' });
      instances.append.apply(instances, cells.length ? cells : [el('span', { cls: 'muted', text: 'none' })]);
      return el('tr', { 'data-function': f.name }, el('td', { text: f.name }), el('td', { text: (f.min_scale != null ? f.min_scale : '?') + '–' + (f.max_scale != null ? f.max_scale : '?') }),
        instances, el('td', { cls: 'num', text: String(inFlight) }));
    }));
    $('platform-sources').replaceChildren.apply($('platform-sources'), (s.sources || []).map(function (src) {
      return el('tr', { 'data-source': src.name }, el('td', { text: src.name, title: (src.topics || []).join(', ') }), el('td', { cls: 'num', text: fmt(src.lag) }),
        el('td', { cls: 'num', text: fmt(src.lag_threshold) }), el('td', { cls: 'num', text: fmt(src.desired) }));
    }));
    $('platform-decisions').replaceChildren.apply($('platform-decisions'), (s.decisions || []).slice(-12).reverse().map(function (d) {
      var at = typeof d.at === 'number' ? time(d.at < 1e12 ? d.at * 1000 : d.at) : time(Date.parse(d.at));
      return el('li', { text: at + ' ' + d.function + ': ' + d.from + ' → ' + d.to + ' (' + d.reason + ')' });
    }));
  }

  connect();
})();
`;
