export * from './codec.ts';
export * from './topics.ts';
export * from './kafka.ts';
export * from './producer.ts';
export * from './consumer.ts';
export * from './consumer-crash.ts';
export * from './admin.ts';
export * from './service-bus.ts';
