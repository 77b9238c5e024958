/**
 * The ArangoDB stand-in's AQL: it does not parse AQL, it recognises the few fixed queries
 * the store adapter sends (compared with whitespace collapsed) and computes their results
 * in JavaScript. This is a copy of packages/core/src/store/arango-queries.ts on purpose: a changed
 * query is refused (400) until someone teaches the stand-in what it means.
 *
 * Strings compare by UTF-16 code units here, while ArangoDB compares by its ICU collation;
 * for the ASCII record keys of one collection (same prefix, fixed-width numbers) both agree.
 */

export type Doc = Record<string, unknown>;

export interface QueryContext {
  /** The documents of a collection as the query sees them; undefined when it does not exist. */
  docs(collection: string): Map<string, Doc> | undefined;
  /** Replaces a document (REPLACE ... IN), keeping `_key`/`_id`; throws on a write-write conflict. */
  replace(collection: string, key: string, doc: Doc): void;
  /** Removes a document (REMOVE ... IN); throws on a write-write conflict. */
  remove(collection: string, key: string): void;
}

export interface StandinQuery {
  text: string;
  /** Collections named in the text (a missing one fails the query, as in ArangoDB). */
  collections: string[];
  run(bind: Record<string, unknown>, ctx: QueryContext): unknown[];
}

const unset = (doc: Doc): Doc => {
  const { _key: _k, _id: _i, _rev: _r, ...rest } = doc;
  return rest;
};
const cmp = (a: unknown, b: unknown): number =>
  (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
const all = (ctx: QueryContext, collection: string): Doc[] => [...ctx.docs(collection)!.values()];
/** `SORT d.<first>, d.<second>`: both ascending. */
const ascendingBy =
  (first: string, second: string) =>
  (a: Doc, b: Doc): number =>
    cmp(a[first], b[first]) || cmp(a[second], b[second]);
/** The keyset condition of a page: `doc` comes after (at, atId) in (time, id) order. */
const comesAfter = (doc: Doc, time: string, id: string, at: unknown, atId: unknown): boolean =>
  cmp(doc[time], at) > 0 || (cmp(doc[time], at) === 0 && cmp(doc[id], atId) > 0);
/** AQL's TO_NUMBER: null (a price candle's missing volume) is 0; SUM skips nulls, which adds the same. */
const toNumber = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const limited = <T>(items: T[], limit: unknown): T[] => items.slice(0, Number(limit));
const without = (doc: Doc, ...fields: string[]): Doc =>
  Object.fromEntries(Object.entries(doc).filter(([k]) => !fields.includes(k)));
/** The candles of one series (`@symbol`, `@interval`, keys from `@prefix`) with open time in [from, to), in time order. */
const candlesOf = (bind: Record<string, unknown>, ctx: QueryContext, from: number, to: number): Doc[] =>
  all(ctx, String(bind['@collection']))
    .filter((d) => d.symbol === bind.symbol && d.interval === bind.interval)
    .filter((d) => String(d._key).startsWith(String(bind.prefix)))
    .filter((d) => typeof d.open_time === 'number' && d.open_time >= from && d.open_time < to)
    .sort((a, b) => cmp(a.open_time, b.open_time));
/** REMOVE of every document of `@@collection` that `keep` selects; returns nothing, as the AQL does. */
const removing =
  (keep: (d: Doc, bind: Record<string, unknown>) => boolean) =>
  (bind: Record<string, unknown>, ctx: QueryContext): unknown[] => {
    const name = String(bind['@collection']);
    for (const d of all(ctx, name).filter((doc) => keep(doc, bind))) ctx.remove(name, String(d._key));
    return [];
  };

export const STANDIN_QUERIES: StandinQuery[] = [
  {
    text: `FOR d IN @@collection
  FILTER d.open_time >= @from && d.open_time < @to
  FILTER d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix)
  COLLECT time = (@bucket == 0 ? d.open_time : d.open_time - ((d.open_time - @offset) % @bucket))
  AGGREGATE first = MIN(d.open_time), last = MAX(d.open_time), candles = SUM(1), high = MAX(TO_NUMBER(d.high)), low = MIN(TO_NUMBER(d.low)), volume = SUM(TO_NUMBER(d.volume)), quote_volume = SUM(TO_NUMBER(d.quote_asset_volume)), trades = SUM(d.number_of_trades)
  SORT time
  LET open = FIRST(FOR f IN @@collection FILTER f.open_time == first && f.symbol == @symbol && f.interval == @interval && STARTS_WITH(f._key, @prefix) LIMIT 1 RETURN TO_NUMBER(f.open))
  LET close = FIRST(FOR c IN @@collection FILTER c.open_time == last && c.symbol == @symbol && c.interval == @interval && STARTS_WITH(c._key, @prefix) LIMIT 1 RETURN TO_NUMBER(c.close))
  RETURN { time, first, last, candles, high, low, volume, quote_volume, trades, open, close }`,
    collections: [],
    run(bind, ctx) {
      const series = candlesOf(bind, ctx, Number(bind.from), Number(bind.to));
      const bucket = Number(bind.bucket);
      const offset = Number(bind.offset);
      const groups = new Map<number, Doc[]>();
      for (const d of series) {
        const t = Number(d.open_time);
        const time = bucket === 0 ? t : t - ((t - offset) % bucket);
        groups.set(time, [...(groups.get(time) ?? []), d]);
      }
      return [...groups]
        .sort(([a], [b]) => a - b)
        .map(([time, docs]) => ({
          time,
          first: docs[0]!.open_time,
          last: docs.at(-1)!.open_time,
          candles: docs.length,
          high: Math.max(...docs.map((d) => Number(d.high))),
          low: Math.min(...docs.map((d) => Number(d.low))),
          volume: docs.reduce((sum, d) => sum + toNumber(d.volume), 0),
          quote_volume: docs.reduce((sum, d) => sum + toNumber(d.quote_asset_volume), 0),
          trades: docs.reduce((sum, d) => sum + toNumber(d.number_of_trades), 0),
          open: Number(docs[0]!.open),
          close: Number(docs.at(-1)!.close),
        }));
    },
  },
  {
    text: `LET first = FIRST(FOR d IN @@collection FILTER d.open_time >= 0 && d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix) SORT d.open_time ASC LIMIT 1 RETURN d.open_time)
LET last = FIRST(FOR d IN @@collection FILTER d.open_time >= 0 && d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix) SORT d.open_time DESC LIMIT 1 RETURN d.open_time)
RETURN { first, last }`,
    collections: [],
    run(bind, ctx) {
      const series = candlesOf(bind, ctx, 0, Number.POSITIVE_INFINITY);
      return [{ first: series[0]?.open_time ?? null, last: series.at(-1)?.open_time ?? null }];
    },
  },
  {
    text: `FOR d IN @@collection
  FILTER d.timestamp >= @from && d.timestamp < @to
  FILTER d.symbol == @symbol && STARTS_WITH(d._key, @prefix)
  COLLECT time = d.timestamp - ((d.timestamp - @offset) % @bucket)
  AGGREGATE first = MIN(d._key), last = MAX(d._key), high = MAX(TO_NUMBER(d.price)), low = MIN(TO_NUMBER(d.price)), volume = SUM(TO_NUMBER(d.quantity)), quote_volume = SUM(TO_NUMBER(d.price) * TO_NUMBER(d.quantity)), trades = SUM(1)
  SORT time
  RETURN { time, high, low, volume, quote_volume, trades, open: TO_NUMBER(DOCUMENT(@name, first).price), close: TO_NUMBER(DOCUMENT(@name, last).price) }`,
    collections: [],
    run(bind, ctx) {
      const from = Number(bind.from);
      const to = Number(bind.to);
      const bucket = Number(bind.bucket);
      const offset = Number(bind.offset);
      const trades = all(ctx, String(bind['@collection']))
        .filter((d) => d.symbol === bind.symbol && String(d._key).startsWith(String(bind.prefix)))
        .filter((d) => typeof d.timestamp === 'number' && d.timestamp >= from && d.timestamp < to)
        .sort((a, b) => cmp(a._key, b._key));
      const groups = new Map<number, Doc[]>();
      for (const d of trades) {
        const t = Number(d.timestamp);
        const time = t - ((t - offset) % bucket);
        groups.set(time, [...(groups.get(time) ?? []), d]);
      }
      return [...groups]
        .sort(([a], [b]) => a - b)
        .map(([time, docs]) => ({
          time,
          high: Math.max(...docs.map((d) => Number(d.price))),
          low: Math.min(...docs.map((d) => Number(d.price))),
          volume: docs.reduce((sum, d) => sum + Number(d.quantity), 0),
          quote_volume: docs.reduce((sum, d) => sum + Number(d.price) * Number(d.quantity), 0),
          trades: docs.length,
          open: Number(docs[0]!.price),
          close: Number(docs.at(-1)!.price),
        }));
    },
  },
  {
    text: `LET first = FIRST(FOR d IN @@collection FILTER d._key >= @low && d._key < @high SORT d._key ASC LIMIT 1 RETURN d.timestamp)
LET last = FIRST(FOR d IN @@collection FILTER d._key >= @low && d._key < @high SORT d._key DESC LIMIT 1 RETURN d.timestamp)
RETURN { first, last }`,
    collections: [],
    run(bind, ctx) {
      const inRange = all(ctx, String(bind['@collection']))
        .filter((d) => cmp(d._key, bind.low) >= 0 && cmp(d._key, bind.high) < 0)
        .sort((a, b) => cmp(a._key, b._key));
      return [{ first: inRange[0]?.timestamp ?? null, last: inRange.at(-1)?.timestamp ?? null }];
    },
  },
  {
    text: `FOR span IN @spans
  FOR j IN (
    FOR d IN @@collection
      FILTER d.open_time >= span.from && d.open_time < span.to
      FILTER d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix)
      SORT d.open_time
      WINDOW { preceding: 1, following: 0 } AGGREGATE prev = MIN(d.open_time)
      FILTER d.open_time - prev > @step
      RETURN { after: prev, before: d.open_time }
  )
  RETURN j`,
    collections: [],
    run: (bind, ctx) =>
      (bind.spans as Array<{ from: number; to: number }>).flatMap((span) => {
        const times = candlesOf(bind, ctx, span.from, span.to).map((d) => Number(d.open_time));
        return times
          .slice(1)
          .flatMap((t, i) => (t - times[i]! > Number(bind.step) ? [{ after: times[i], before: t }] : []));
      }),
  },
  {
    text: `FOR d IN @@collection
  FILTER d._key > @after
  SORT d._key
  LIMIT @limit
  RETURN UNSET(d, "_key", "_id", "_rev")`,
    collections: [],
    run: (bind, ctx) =>
      limited(
        all(ctx, String(bind['@collection']))
          .filter((d) => cmp(d._key, bind.after) > 0)
          .sort((a, b) => cmp(a._key, b._key)),
        bind.limit,
      ).map(unset),
  },
  {
    text: `LET parts = (FOR p IN workflow_pages FILTER p.queue_id == @queue_id RETURN { page: p.page, pages: p.pages, parts: p.parts, records: p.records })
LET done = (FOR part IN parts COLLECT page = part.page, needed = part.parts WITH COUNT INTO stored FILTER stored >= needed RETURN page)
LET rejected = (FOR r IN rejected_records FILTER r.queue_id == @queue_id RETURN 1)
RETURN { pagesDone: LENGTH(done), pagesTotal: MAX(parts[*].pages), recordsWritten: SUM(parts[*].records), rejected: LENGTH(rejected) }`,
    collections: ['workflow_pages', 'rejected_records'],
    run(bind, ctx) {
      const parts = all(ctx, 'workflow_pages').filter((p) => p.queue_id === bind.queue_id);
      const groups = new Map<string, number>();
      for (const p of parts)
        groups.set(JSON.stringify([p.page, p.parts]), (groups.get(JSON.stringify([p.page, p.parts])) ?? 0) + 1);
      const done = [...groups].filter(([group, stored]) => stored >= (JSON.parse(group) as number[])[1]).length;
      return [
        {
          pagesDone: done,
          pagesTotal: parts.length === 0 ? null : Math.max(...parts.map((p) => Number(p.pages))),
          recordsWritten: parts.reduce((sum, p) => sum + Number(p.records), 0),
          rejected: all(ctx, 'rejected_records').filter((r) => r.queue_id === bind.queue_id).length,
        },
      ];
    },
  },
  {
    text: `FOR r IN rejected_records
  FILTER r.queue_id == @queue_id
  SORT r.rejected_at, r.position
  LIMIT @limit
  RETURN { collection: r.collection, queue_id: r.queue_id, key: r.key, reason: r.reason, record: r.record }`,
    collections: ['rejected_records'],
    run: (bind, ctx) =>
      limited(
        all(ctx, 'rejected_records')
          .filter((r) => r.queue_id === bind.queue_id)
          .sort(ascendingBy('rejected_at', 'position')),
        bind.limit,
      ).map((r) => ({
        collection: r.collection,
        queue_id: r.queue_id,
        key: r.key ?? null,
        reason: r.reason,
        record: r.record,
      })),
  },
  ...[false, true].map(
    (byStatus): StandinQuery => ({
      text: `FOR w IN workflows
${byStatus ? '  FILTER w.status == @status\n' : ''}  FILTER w.created_at < @before_at || (w.created_at == @before_at && w.queue_id < @before)
  SORT w.created_at DESC, w.queue_id DESC
  LIMIT @limit
  RETURN UNSET(w, "_key", "_id", "_rev")`,
      collections: ['workflows'],
      run: (bind, ctx) =>
        limited(
          all(ctx, 'workflows')
            .filter((w) => !byStatus || w.status === bind.status)
            .filter(
              (w) =>
                cmp(w.created_at, bind.before_at) < 0 ||
                (w.created_at === bind.before_at && cmp(w.queue_id, bind.before) < 0),
            )
            .sort((a, b) => cmp(b.created_at, a.created_at) || cmp(b.queue_id, a.queue_id)),
          bind.limit,
        ).map(unset),
    }),
  ),
  {
    text: `FOR w IN workflows
  FILTER w._key == @key && w.version == @expected
  REPLACE w WITH @workflow IN workflows
  RETURN true`,
    collections: ['workflows'],
    run(bind, ctx) {
      const current = ctx.docs('workflows')!.get(String(bind.key));
      if (!current || current.version !== bind.expected) return [];
      ctx.replace('workflows', String(bind.key), bind.workflow as Doc);
      return [true];
    },
  },
  {
    text: `FOR e IN workflow_events
  FILTER e.queue_id == @queue_id && (e.received_at > @after || (e.received_at == @after && e.event_id > @after_id))
  SORT e.received_at, e.event_id
  LIMIT @limit
  RETURN { queue_id: e.queue_id, event_id: e.event_id, received_at: e.received_at, event: e.event }`,
    collections: ['workflow_events'],
    run: (bind, ctx) =>
      limited(
        all(ctx, 'workflow_events')
          .filter(
            (e) => e.queue_id === bind.queue_id && comesAfter(e, 'received_at', 'event_id', bind.after, bind.after_id),
          )
          .sort(ascendingBy('received_at', 'event_id')),
        bind.limit,
      ).map((e) => ({ queue_id: e.queue_id, event_id: e.event_id, received_at: e.received_at, event: e.event })),
  },
  {
    text: `FOR d IN dead_letters
  FILTER (@queue_id == null || d.queue_id == @queue_id) && (d.dead_lettered_at > @after || (d.dead_lettered_at == @after && d.id > @after_id))
  SORT d.dead_lettered_at, d.id
  LIMIT @limit
  RETURN UNSET(d, "_key", "_id", "_rev")`,
    collections: ['dead_letters'],
    run: (bind, ctx) =>
      limited(
        all(ctx, 'dead_letters')
          .filter(
            (d) =>
              (bind.queue_id === null || d.queue_id === bind.queue_id) &&
              comesAfter(d, 'dead_lettered_at', 'id', bind.after, bind.after_id),
          )
          .sort(ascendingBy('dead_lettered_at', 'id')),
        bind.limit,
      ).map(unset),
  },
  {
    text: `FOR d IN dead_letters
  FILTER d.queue_id == @queue_id
  COLLECT service = d.service INTO letters = { at: d.dead_lettered_at, id: d.id, reason: d.reason, replayed: d.replayed_at != null }
  RETURN { service, total: LENGTH(letters), replayed: LENGTH(letters[* FILTER CURRENT.replayed]), reason: LAST(SORTED(letters)).reason }`,
    collections: ['dead_letters'],
    run(bind, ctx) {
      const byService = new Map<string, Doc[]>();
      for (const d of all(ctx, 'dead_letters').filter((doc) => doc.queue_id === bind.queue_id))
        byService.set(String(d.service), [...(byService.get(String(d.service)) ?? []), d]);
      return [...byService.entries()]
        .sort(([a], [b]) => cmp(a, b))
        .map(([service, letters]) => {
          const latest = [...letters].sort(ascendingBy('dead_lettered_at', 'id')).at(-1)!;
          return {
            service,
            total: letters.length,
            replayed: letters.filter((d) => d.replayed_at !== undefined && d.replayed_at !== null).length,
            reason: latest.reason,
          };
        });
    },
  },
  {
    text: `FOR d IN dead_letters
  FILTER d._key == @key && d.replayed_at == null
  REPLACE d WITH MERGE(d, { replayed_at: @at }) IN dead_letters
  RETURN true`,
    collections: ['dead_letters'],
    run(bind, ctx) {
      const current = ctx.docs('dead_letters')!.get(String(bind.key));
      if (!current || (current.replayed_at !== undefined && current.replayed_at !== null)) return [];
      ctx.replace('dead_letters', String(bind.key), { ...current, replayed_at: bind.at });
      return [true];
    },
  },
  {
    text: `FOR d IN @@collection
  FILTER d.window == @window
  REMOVE d IN @@collection`,
    collections: [],
    run: removing((d, bind) => d.window === bind.window),
  },
  {
    text: `FOR d IN @@collection
  FILTER d.window >= @windows
  REMOVE d IN @@collection`,
    collections: [],
    run: removing((d, bind) => cmp(d.window, bind.windows) >= 0),
  },
  {
    text: `FOR v IN @@collection
  FILTER @window == null || v.window == @window
  SORT v.window, v.symbol
  RETURN UNSET(v, "_key", "_id", "_rev")`,
    collections: [],
    run: (bind, ctx) =>
      all(ctx, String(bind['@collection']))
        .filter((v) => bind.window === null || v.window === bind.window)
        .sort(ascendingBy('window', 'symbol'))
        .map(unset),
  },
  {
    text: `FOR e IN @@collection
  FILTER @window == null || e.window == @window
  SORT e.window, e.from, e.to
  RETURN UNSET(e, "_key", "_id", "_rev", "_from", "_to")`,
    collections: [],
    run: (bind, ctx) =>
      all(ctx, String(bind['@collection']))
        .filter((e) => bind.window === null || e.window === bind.window)
        .sort((a, b) => cmp(a.window, b.window) || cmp(a.from, b.from) || cmp(a.to, b.to))
        .map((e) => without(e, '_key', '_id', '_rev', '_from', '_to')),
  },
  {
    text: `FOR s IN graph_sets
  SORT s.graph_id
  RETURN UNSET(s, "_key", "_id", "_rev")`,
    collections: ['graph_sets'],
    run: (_bind, ctx) =>
      all(ctx, 'graph_sets')
        .sort((a, b) => cmp(a.graph_id, b.graph_id))
        .map(unset),
  },
  {
    text: `FOR m IN models
  FILTER m.model_id == @model_id && m.status == "ready"
  SORT m.version DESC
  LIMIT 1
  RETURN UNSET(m, "_key", "_id", "_rev")`,
    collections: ['models'],
    run: (bind, ctx) =>
      limited(
        all(ctx, 'models')
          .filter((m) => m.model_id === bind.model_id && m.status === 'ready')
          .sort((a, b) => cmp(b.version, a.version)),
        1,
      ).map(unset),
  },
  {
    text: `FOR m IN models
  FILTER @model_id == null || m.model_id == @model_id
  SORT m.model_id, m.version DESC
  LIMIT @limit
  RETURN UNSET(m, "_key", "_id", "_rev")`,
    collections: ['models'],
    run: (bind, ctx) =>
      limited(
        all(ctx, 'models')
          .filter((m) => bind.model_id === null || m.model_id === bind.model_id)
          .sort((a, b) => cmp(a.model_id, b.model_id) || cmp(b.version, a.version)),
        bind.limit,
      ).map(unset),
  },
];

export const normalizeAql = (text: string): string => text.replace(/\s+/g, ' ').trim();

const byText = new Map(STANDIN_QUERIES.map((q) => [normalizeAql(q.text), q]));

export function findStandinQuery(text: string): StandinQuery | undefined {
  return byText.get(normalizeAql(text));
}

/** Bind parameters the text declares: `@name`, and `@@name` as `@name`. */
export function declaredBindParameters(text: string): string[] {
  return [...new Set([...text.matchAll(/@(@?[A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]))];
}
