export * from './logger.ts';
export * from './metrics.ts';
export * from './consumer-lag.ts';
export * from './throttle.ts';
