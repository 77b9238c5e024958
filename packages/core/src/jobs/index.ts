export * from './job-launcher.ts';
export * from './registry.ts';
