/**
 * Structured JSON logs (pino). Every line carries the service; handlers add the queue_id
 * with `logger.child({ queue_id })`, so one workflow can be followed across services.
 */
import { pino, type Logger } from 'pino';
import { env } from '../config.ts';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { service: options.service, pid: process.pid };
  const config: pino.LoggerOptions = {
    level: options.level ?? env('LOG_LEVEL'),
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
