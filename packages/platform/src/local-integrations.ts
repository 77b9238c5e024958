/**
 * What the local platform adds to every function process it starts (`node --import` for
 * sources, the first import of a local bundle): the `local` Job launcher, which runs
 * loader-ws Jobs as processes of this machine. Functions never import this package; they
 * ask for a launcher by kind (JOB_LAUNCHER).
 */
import { registerJobLauncher } from '@streamforge/core/jobs';
import { LocalJobLauncher } from './local-job-launcher.ts';
import { stateDir } from './stack-state.ts';

registerJobLauncher('local', ({ env, logger }) => new LocalJobLauncher({ stateDir: stateDir(env), env, logger }));
