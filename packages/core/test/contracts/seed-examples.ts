/** Messages in the seed wire format, which the contracts still accept. */
export const SEED_START = {
  command: 'start',
  queue_id: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3',
  target: 'loader-api',
  symbol: 'BTCUSDT',
  type: 'api_candles_5m',
  time_range: '2024-08-01:2024-08-02',
  kafka_topic: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3-data',
  collection_name: 'btcusdt_api_candles_5m_2024_08_01',
  telemetry_id: 'loader-api__a1b2c3',
  image: 'registry.dmz.home/streamforge/loader-producer:v0.2.0',
  timestamp: 1722500000.123,
};

export const SEED_TELEMETRY = {
  queue_id: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3',
  producer: 'arango-connector__a1b2c3',
  symbol: 'BTCUSDT',
  type: 'api_candles_5m',
  status: 'loading',
  message: 'Saved 15000 records',
  records_written: 15000,
  finished: false,
  timestamp: 1722500125.456,
};

/** Seed-format telemetry as senders emit it: `sent_at` instead of `timestamp`, `event`, and extra fields. */
export const SEED_TELEMETRY_AS_EMITTED = {
  event: 'finished',
  queue_id: 'loader-btcusdt-api_candles_5m-2024-08-01-a1b2c3',
  symbol: 'BTCUSDT',
  type: 'api_candles_5m',
  producer: 'arango-connector__a1b2c3',
  sent_at: 1722500200.5,
  status: 'finished',
  message: 'done',
  finished: true,
  records_written: 288,
  collection_name: 'btcusdt_candles_5m_2024_08_01',
};

export const SEED_STOP = {
  command: 'stop',
  queue_id: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3',
  timestamp: 1722500300.0,
};
export const SEED_PING = {
  command: 'ping',
  queue_id: 'diag-ping-1',
  target: 'dummy-service',
  sent_at: 1722500000.5,
  timestamp: 1722500000.5,
};
