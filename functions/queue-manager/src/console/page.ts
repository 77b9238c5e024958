/**
 * The console page and its styles, as strings inside the manager's bundle. Plain HTML and
 * CSS, sized for a laptop screen; the script (client/*.ts, bundled into app.js) fills it in
 * and finds its elements by the ids given here.
 */

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>StreamForge console</title>
<link rel="icon" href="console/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="console/app.css">
<script src="console/app.js" defer></script>
</head>
<body>
<header>
  <h1>StreamForge <span>console</span></h1>
  <span id="connection" class="conn conn-connecting" data-state="connecting">connecting…</span>
  <button id="change-token" type="button" class="link" hidden>change token</button>
</header>

<dialog id="token-dialog">
  <form id="token-form" method="dialog">
    <h2>API token</h2>
    <p id="token-reason">The API wants a bearer token (STREAMFORGE_API_TOKEN).</p>
    <input id="token-input" name="token" type="password" autocomplete="off" required placeholder="token">
    <menu><button type="submit">Use token</button></menu>
  </form>
</dialog>

<main>
  <div class="column">
    <section id="start">
      <h2>Start a workflow</h2>
      <form id="start-form" autocomplete="off">
        <label>Symbol <input name="symbol" value="BTCUSDT" required pattern="[A-Za-z0-9]{2,20}(_[A-Za-z0-9]{1,12})?"></label>
        <label>Type <input name="type" list="types" value="api_candles_1h" required></label>
        <datalist id="types">
          <option value="api_candles_1m"><option value="api_candles_5m"><option value="api_candles_15m">
          <option value="api_candles_1h"><option value="api_candles_1d"><option value="api_agg_trades">
          <option value="bulk_candles_1m"><option value="bulk_candles_1h"><option value="bulk_agg_trades"><option value="bulk_trades">
          <option value="api_mark_price_candles_1h"><option value="api_index_price_candles_1h"><option value="api_premium_index_candles_1h">
          <option value="bulk_mark_price_candles_1m"><option value="api_funding_rate"><option value="bulk_funding_rate"><option value="bulk_metrics">
          <option value="ws_candles_1m"><option value="ws_trades"><option value="ws_depth">
          <option value="graph_correlation"><option value="gnn_train"><option value="dummy_load">
        </datalist>
        <label>From <input name="from" type="date"></label>
        <label>To <input name="to" type="date"></label>
        <label>Market <select name="market"><option value="spot">spot</option><option value="usdm">USD-M futures</option><option value="coinm">COIN-M futures</option></select></label>
        <details>
          <summary>Parameters (JSON)</summary>
          <textarea name="params" rows="3" placeholder='{"steps": 5, "interval_ms": 500}'></textarea>
        </details>
        <button type="submit" id="start-button">Start</button>
      </form>
      <p id="form-result" role="status"></p>
    </section>

    <section id="workflows">
      <h2>Workflows <small id="workflow-count"></small></h2>
      <table>
        <thead><tr><th>Workflow</th><th>Type</th><th>Range</th><th>Status</th><th>Progress</th><th class="num">Records</th><th>Updated</th><th></th></tr></thead>
        <tbody id="workflow-rows"></tbody>
      </table>
      <p id="no-workflows" class="muted">No workflows yet.</p>
    </section>

    <section id="collection-view" hidden>
      <h2>Collection <code id="chart-name"></code>
        <button id="chart-home" type="button" class="small">Whole range</button>
        <button id="chart-close" type="button" class="small plain">Close</button></h2>
      <p id="chart-summary" class="muted"></p>
      <p id="chart-error" class="error" hidden></p>
      <div id="chart" data-state="idle"></div>
      <p class="muted hint">Scroll to zoom, drag to pan: the visible range is read again with finer candles. Shaded: expected candles that are not stored.</p>
      <ol id="chart-gaps" class="gaps"></ol>
      <p class="attribution">Charts: TradingView Lightweight Charts™, Copyright (c) 2026 TradingView, Inc., <a href="https://www.tradingview.com/" rel="noopener noreferrer" target="_blank">tradingview.com</a> (Apache-2.0)</p>
    </section>

    <section id="graph-view" hidden>
      <h2>Graph <code id="graph-name"></code>
        <button id="graph-close" type="button" class="small plain">Close</button></h2>
      <p id="graph-summary" class="muted"></p>
      <p id="graph-error" class="error" hidden></p>
      <label class="muted">Window <input id="graph-window" type="range" min="0" max="0" value="0"></label>
      <div id="graph" data-state="idle"></div>
      <p class="muted hint">Vertices: green, the next window went up; red, down; grey, not known yet. Edges: width |ρ|, blue positive, orange negative.</p>
    </section>

    <section id="book-view" hidden>
      <h2><span id="book-title">Order book</span> <code id="book-name"></code>
        <button id="book-close" type="button" class="small plain">Close</button></h2>
      <p id="book-summary" class="muted"></p>
      <p id="book-error" class="error" hidden></p>
      <div id="book" data-state="idle">
        <div id="book-chart"></div>
        <div id="book-ladder" hidden>
          <table class="compact ladder"><caption>Bids</caption>
            <thead><tr><th class="num">Price</th><th class="num">Quantity</th><th class="num">Cumulative</th></tr></thead>
            <tbody id="book-bids"></tbody></table>
          <table class="compact ladder"><caption>Asks</caption>
            <thead><tr><th class="num">Price</th><th class="num">Quantity</th><th class="num">Cumulative</th></tr></thead>
            <tbody id="book-asks"></tbody></table>
        </div>
      </div>
      <p class="muted hint">Green: best bid; red: best ask (the last quote of each point); blue, below: the spread.</p>
    </section>

    <section id="series-view" hidden>
      <h2><span id="series-title">Series</span> <code id="series-name"></code>
        <button id="series-home" type="button" class="small">Whole range</button>
        <button id="series-close" type="button" class="small plain">Close</button></h2>
      <p id="series-summary" class="muted"></p>
      <p id="series-error" class="error" hidden></p>
      <div id="series" data-state="idle"><div id="series-chart"></div></div>
      <p id="series-legend" class="muted hint"></p>
    </section>

    <section id="training-view" hidden>
      <h2>Training <code id="training-name"></code>
        <button id="training-close" type="button" class="small plain">Close</button></h2>
      <div id="training" data-state="idle"></div>
    </section>

    <details id="collections" class="panel">
      <summary><h2>Collections</h2></summary>
      <p><button id="collections-refresh" type="button" class="small">Refresh</button></p>
      <table class="compact">
        <thead><tr><th>Collection</th><th class="num">Records</th><th></th></tr></thead>
        <tbody id="collection-rows"></tbody>
      </table>
      <p id="no-collections" class="muted" hidden>No collections yet.</p>
    </details>
  </div>

  <div class="column side">
    <section id="detail" hidden>
      <h2>Workflow <code id="detail-id"></code></h2>
      <p><span id="detail-status" class="status"></span> <span id="detail-summary" class="muted"></span></p>
      <p id="detail-error" class="error" hidden></p>
      <p id="detail-dead-letters" class="error" hidden></p>
      <p id="detail-deadline" class="muted" hidden></p>
      <p><button id="detail-chart" type="button" class="small" hidden>Chart its candles</button>
        <button id="detail-graph" type="button" class="small" hidden>Show its graph</button>
        <button id="detail-training" type="button" class="small" hidden>Show its training</button>
        <button id="detail-book" type="button" class="small" hidden>Show its order book</button></p>
      <table class="compact">
        <thead><tr><th>Service</th><th>Status</th><th>Progress</th><th class="num">Records</th><th class="num">Rejected</th><th>Message</th></tr></thead>
        <tbody id="detail-services"></tbody>
      </table>
      <h3>Telemetry timeline</h3>
      <ol id="timeline"></ol>
    </section>

    <section id="platform" hidden>
      <h2>Local platform</h2>
      <h3>Instances</h3>
      <table class="compact"><thead><tr><th>Function</th><th>Scale</th><th>Instances</th><th class="num">In flight</th></tr></thead><tbody id="platform-functions"></tbody></table>
      <h3>KafkaSources</h3>
      <table class="compact"><thead><tr><th>Source</th><th class="num">Lag</th><th class="num">Threshold</th><th class="num">Desired</th></tr></thead><tbody id="platform-sources"></tbody></table>
      <h3>Scaling decisions</h3>
      <ol id="platform-decisions" class="decisions"></ol>
    </section>
  </div>
</main>
</body>
</html>
`;

/** A small mark for the browser tab (served from the page's origin, as its CSP wants). */
export const CONSOLE_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#121826"/><path d="M3 11l3-4 3 3 4-6" stroke="#3ccf76" stroke-width="2" fill="none"/></svg>';

export const CONSOLE_STYLES = `:root {
  --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --muted: #6b7385; --line: #e2e5ea; --accent: #2457d6;
  --ok: #167a3e; --run: #2457d6; --wait: #8a6d00; --bad: #b42318; --stop: #5b6170;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #121826; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; font-weight: 600; }
header h1 span { color: #9fb3e6; font-weight: 400; }
.conn { font-size: .85rem; padding: .1rem .55rem; border-radius: 999px; background: #2a3246; }
.conn::before { content: "●"; margin-right: .35rem; }
.conn-live::before { color: #3ccf76; }
.conn-connecting::before, .conn-reconnecting::before { color: #f2c94c; }
.conn-unauthorized::before { color: #ff6b5e; }
button.link { background: none; border: 0; color: #9fb3e6; cursor: pointer; text-decoration: underline; }
main { display: grid; grid-template-columns: minmax(0, 1.7fr) minmax(0, 1fr); gap: 1rem; padding: 1rem 1.2rem; align-items: start; }
@media (max-width: 1100px) { main { grid-template-columns: 1fr; } }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
h3 { font-size: .9rem; margin: .9rem 0 .4rem; color: var(--muted); }
small, .muted { color: var(--muted); }
form#start-form { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; }
form#start-form label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
form#start-form details { flex-basis: 100%; font-size: .85rem; }
form#start-form textarea { width: 100%; font: 12px ui-monospace, monospace; }
input, select, textarea { font: inherit; padding: .3rem .45rem; border: 1px solid var(--line); border-radius: 5px; background: #fff; color: var(--ink); }
input[name=symbol] { width: 8rem; text-transform: uppercase; }
input[name=type] { width: 11rem; }
button { font: inherit; cursor: pointer; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; padding: .32rem .9rem; }
button.stop { background: #fff; color: var(--bad); border-color: #e7b4ae; padding: .1rem .6rem; font-size: .85rem; }
button:disabled { opacity: .5; cursor: default; }
#form-result { margin: .5rem 0 0; min-height: 1.2em; font-size: .9rem; }
#form-result.ok { color: var(--ok); }
.error, #form-result.error { color: var(--bad); }
table { width: 100%; border-collapse: collapse; font-size: .88rem; }
th { text-align: left; color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); padding: .3rem .4rem; }
td { border-bottom: 1px solid var(--line); padding: .35rem .4rem; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr.workflow { cursor: pointer; }
tbody tr.workflow:hover { background: #f1f4fb; }
tbody tr.selected { background: #e8eefc; }
td.id code { font-size: .8rem; word-break: break-all; }
td .reason { display: block; color: var(--bad); font-size: .8rem; max-width: 28rem; }
td .rejected { color: var(--bad); }
.status { display: inline-block; font-size: .78rem; font-weight: 600; padding: .05rem .5rem; border-radius: 999px; background: #eef0f3; color: var(--stop); }
.status-completed, .status-finished { background: #e3f4ea; color: var(--ok); }
.status-running, .status-loading, .status-started { background: #e6edfc; color: var(--run); }
.status-pending { background: #fbf3d9; color: var(--wait); }
.status-error { background: #fbe5e2; color: var(--bad); }
.bar { width: 7rem; height: .45rem; background: #eef0f3; border-radius: 3px; overflow: hidden; display: inline-block; vertical-align: middle; margin-right: .4rem; }
.bar > span { display: block; height: 100%; background: var(--accent); width: 0; }
.compact td, .compact th { padding: .2rem .35rem; font-size: .82rem; }
ol#timeline { list-style: none; margin: 0; padding: 0; max-height: 26rem; overflow: auto; font-size: .82rem; }
ol#timeline li { display: grid; grid-template-columns: 4.5rem 9.5rem 5rem 1fr; gap: .4rem; padding: .2rem 0; border-bottom: 1px dashed var(--line); }
ol#timeline .t { color: var(--muted); font-variant-numeric: tabular-nums; }
ol#timeline .producer { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
ol.decisions { margin: 0; padding-left: 1.1rem; font-size: .82rem; }
.instance { display: inline-block; font-size: .75rem; border: 1px solid var(--line); border-radius: 4px; padding: 0 .3rem; margin: 0 .2rem .2rem 0; }
.instance-ready, .instance-running { border-color: #a8dcb9; }
button.small { padding: .1rem .6rem; font-size: .82rem; }
button.plain { background: #fff; color: var(--muted); border-color: var(--line); }
details.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
details.panel summary { cursor: pointer; }
details.panel summary h2 { display: inline; }
#chart { position: relative; height: 420px; border: 1px solid var(--line); border-radius: 6px; }
#graph { position: relative; height: 380px; border: 1px solid var(--line); border-radius: 6px; margin-top: .4rem; }
#book-chart { position: relative; height: 360px; border: 1px solid var(--line); border-radius: 6px; }
#series-chart { position: relative; height: 360px; border: 1px solid var(--line); border-radius: 6px; }
#series-legend .legend-item { margin-right: 1rem; white-space: nowrap; }
#series-legend .swatch { display: inline-block; width: .8rem; height: .25rem; margin-right: .3rem; vertical-align: middle; }
#book-ladder:not([hidden]) { display: flex; gap: 1rem; margin-top: .6rem; }
table.ladder { flex: 1; }
table.ladder caption { text-align: left; font-weight: 600; font-size: .85rem; }
#book-bids td:first-child { color: var(--good, #16a34a); }
#book-asks td:first-child { color: var(--bad); }
#book-summary { margin: 0 0 .5rem; font-size: .85rem; }
#graph-window { width: 20rem; vertical-align: middle; }
#graph-summary { margin: 0 0 .5rem; font-size: .85rem; }
svg.curve { display: block; width: 100%; max-width: 40rem; height: auto; margin: .3rem 0; }
#chart-summary { margin: 0 0 .5rem; font-size: .85rem; }
ol.gaps { margin: .4rem 0 0; padding-left: 1.2rem; font-size: .82rem; color: var(--bad); }
.hint, .attribution { font-size: .75rem; margin: .4rem 0 0; }
.attribution { color: var(--muted); }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; }
dialog menu { padding: 0; margin: .8rem 0 0; text-align: right; }
dialog input { width: 22rem; }
`;
