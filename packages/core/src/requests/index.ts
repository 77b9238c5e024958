/**
 * `@streamforge/core/requests`: what a start command asks of its target, read by the
 * target and checked by queue-manager at the door with the same functions.
 */
export { checkStartCommand, REQUEST_PARSERS } from './start-checks.ts';
export {
  describeRequest,
  parseGraphRequest,
  type CandleSource,
  type CorrelationMethod,
  type EdgePolicy,
  type GraphRequest,
} from './graph-request.ts';
export { DEFAULT_TRAIN_OPTIONS, MAX_SEED, type TrainSettings } from './train-defaults.ts';
export {
  datasetKey,
  hyperparameters,
  parseTrainRequest,
  type TrainRequest,
  type TrainSource,
} from './train-request.ts';
export { DEFAULT_SIMULATION, MAX_SCRIPT_MS, parseSimulation, type Simulation } from './simulation.ts';
export { marketRefusal, parseLiveStreamParams, type LiveStreamParams } from './live-stream.ts';
export { JOB_ENV_ENTRY_MAX_BYTES, jobEnvOf, jobSpecOf, type LiveJobSpec } from './live-job.ts';
