export * from './manifests.ts';
export * from './functions.ts';
export * from './dispatcher.ts';
export * from './http-delivery.ts';
export * from './kafka-broker.ts';
export * from './managed-process.ts';
export * from './stack-state.ts';
export * from './free-port.ts';
