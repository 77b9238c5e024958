export * from './function-module.ts';
export * from './server.ts';
export * from './run.ts';
