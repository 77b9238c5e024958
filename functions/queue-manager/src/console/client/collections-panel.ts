/**
 * The collections list: read when the panel is opened or refreshed (never polled), each
 * with a Chart button that opens the collection's view: the order-book view for depth and
 * bookTicker records (told by the first record's key), the time series view for funding rates
 * and metrics, the candle chart otherwise (trade candles, mark/index/premium price candles).
 */
import { api } from './api-client.ts';
import { showBook } from './book-view.ts';
import { showCollection } from './candle-chart.ts';
import { showSeries } from './series-view.ts';
import { byId, el } from './dom.ts';
import { fmt } from './format.ts';
import type { CollectionsAnswer } from './wire.ts';

async function open(name: string): Promise<void> {
  const { records } = await api<{ records: Array<{ key: string }> }>(
    'GET',
    `/collections/${encodeURIComponent(name)}/records?limit=1`,
  ).catch(() => ({ records: [] }));
  const key = records[0]?.key ?? '';
  if (key.includes(':depth:')) void showBook(name, 'depth');
  else if (key.includes(':book:')) void showBook(name, 'book_ticker');
  else if (/^[^:]+:(funding|metrics):/.test(key)) showSeries(name);
  else showCollection(name);
}

async function load(): Promise<void> {
  const body = byId('collection-rows');
  try {
    const { collections } = await api<CollectionsAnswer>('GET', '/collections');
    body.replaceChildren(
      ...collections.map((c) => {
        const chart = el('button', { type: 'button', cls: 'small', 'data-action': 'chart', text: 'Chart' });
        chart.addEventListener('click', () => void open(c.name));
        return el(
          'tr',
          { 'data-collection': c.name },
          el('td', null, el('code', { text: c.name })),
          el('td', { cls: 'num', text: fmt(c.count) }),
          el('td', null, chart),
        );
      }),
    );
    byId('no-collections').hidden = collections.length > 0;
  } catch (error) {
    byId('no-collections').hidden = false;
    byId('no-collections').textContent = `Could not list collections: ${(error as Error).message}`;
  }
}

export function setUpCollectionsPanel(): void {
  const panel = byId<HTMLDetailsElement>('collections');
  panel.addEventListener('toggle', () => {
    if (panel.open) void load();
  });
  byId('collections-refresh').addEventListener('click', () => void load());
}
