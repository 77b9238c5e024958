export * from './backoff.ts';
