export * from './wait-for.ts';
export * from './unique.ts';
export * from './kafka.ts';
export * from './recording-sink.ts';
export * from './process.ts';
export * from './stack.ts';
