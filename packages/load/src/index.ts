/** Load for benchmarks and fault tests: workflows through the API, data events onto Kafka, and the console's stream to watch them. */
export * from './workflow-stream.ts';
export * from './load-generator.ts';
