/**
 * The simulator's WebSocket settings from the environment (declared here, next to the code
 * that reads them), for the process the local platform starts when EXCHANGE=simulator.
 */
import { declareEnv, env } from '@streamforge/core/config';
import { loadCapture } from './ws-replay.ts';
import type { WebSocketSideOptions } from './ws-server.ts';

declareEnv({
  SIM_WS_REPLAY: {
    default: '',
    description:
      'A recorded WebSocket capture (JSON lines {"recv_ms","stream","data"}) the simulator replays on its market instead of synthetic streams; empty: synthetic.',
  },
  SIM_WS_REPLAY_SNAPSHOTS: {
    default: '',
    description:
      'REST depth snapshots recorded with SIM_WS_REPLAY (JSON lines {"url","recv_ms","body"}), served on the depth path.',
  },
});

export async function webSocketOptionsFromEnv(source: NodeJS.ProcessEnv = process.env): Promise<WebSocketSideOptions> {
  const capture = env('SIM_WS_REPLAY', source);
  if (capture === '') return {};
  const snapshots = env('SIM_WS_REPLAY_SNAPSHOTS', source);
  return { replay: await loadCapture(capture, snapshots === '' ? undefined : snapshots) };
}
