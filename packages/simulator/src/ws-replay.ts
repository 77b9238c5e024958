/**
 * Replay of a recorded WebSocket capture by the simulator (a stand-in for Binance): JSON
 * lines `{"recv_ms", "stream", "data"}` (optionally a first `{"connect": url, "at_ms"}`
 * line naming the endpoint), plus the REST depth snapshots taken with it
 * (`{"url", "recv_ms", "body"}` lines), the format of the captures in
 * test/fixtures/binance/ws (test/fixtures/README.md). Every connection plays the capture
 * from its own start, frame by frame at the recorded offsets (on the simulator's clock, so
 * a fast clock replays faster), limited to the streams it subscribed; the snapshots answer
 * the REST depth path for their symbols.
 */
import { readFile } from 'node:fs/promises';
import type { DepthSnapshot, Market } from '@streamforge/core/contracts';

export interface ReplayFrame {
  /** Offset from the first frame, ms. */
  offsetMs: number;
  stream: string;
  /** The recorded payload as JSON text. */
  raw: string;
}

export interface ReplaySnapshot {
  symbol: string;
  market: Market;
  /** When it was received, as an offset from the first frame (may be negative). */
  offsetMs: number;
  body: DepthSnapshot;
}

export interface ReplayCapture {
  market: Market;
  frames: ReplayFrame[];
  snapshots: ReplaySnapshot[];
}

function marketOfUrl(url: string): Market {
  return /fstream|fapi/.test(url) ? 'usdm' : 'spot';
}

/** Parses a capture (and its snapshots) from JSON-lines text; `market` overrides what the connect line says. */
export function parseCapture(captureText: string, snapshotsText = '', market?: Market): ReplayCapture {
  let connectUrl: string | undefined;
  const recorded: Array<{ recv: number; stream: string; raw: string }> = [];
  for (const [n, line] of captureText.split('\n').entries()) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { connect?: string; recv_ms?: number; stream?: string; data?: unknown };
    if (entry.connect !== undefined) {
      connectUrl = entry.connect;
      continue;
    }
    if (typeof entry.recv_ms !== 'number' || typeof entry.stream !== 'string' || entry.data === undefined) {
      throw new Error(`capture line ${n + 1}: expected {"recv_ms", "stream", "data"}`);
    }
    recorded.push({ recv: entry.recv_ms, stream: entry.stream, raw: JSON.stringify(entry.data) });
  }
  const start = recorded[0]?.recv ?? 0;
  const snapshots: ReplaySnapshot[] = [];
  for (const [n, line] of snapshotsText.split('\n').entries()) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { url?: string; recv_ms?: number; body?: DepthSnapshot };
    const symbol = entry.url === undefined ? undefined : new URL(entry.url).searchParams.get('symbol');
    if (!symbol || entry.body === undefined)
      throw new Error(`snapshot line ${n + 1}: expected {"url": …?symbol=…, "recv_ms", "body"}`);
    snapshots.push({
      symbol,
      market: marketOfUrl(entry.url!),
      offsetMs: (entry.recv_ms ?? start) - start,
      body: entry.body,
    });
  }
  return {
    market: market ?? (connectUrl === undefined ? (snapshots[0]?.market ?? 'spot') : marketOfUrl(connectUrl)),
    frames: recorded.map((r) => ({ offsetMs: r.recv - start, stream: r.stream, raw: r.raw })),
    snapshots,
  };
}

export async function loadCapture(
  capturePath: string,
  snapshotsPath?: string,
  market?: Market,
): Promise<ReplayCapture> {
  const [capture, snapshots] = await Promise.all([
    readFile(capturePath, 'utf8'),
    snapshotsPath === undefined ? '' : readFile(snapshotsPath, 'utf8'),
  ]);
  return parseCapture(capture, snapshots, market);
}

/** One connection's position in the capture. */
export class ReplayCursor {
  readonly #frames: ReplayFrame[];
  readonly #startedAt: number;
  #next = 0;

  constructor(capture: ReplayCapture, startedAt: number) {
    this.#frames = capture.frames;
    this.#startedAt = startedAt;
  }

  get done(): boolean {
    return this.#next >= this.#frames.length;
  }

  /** Frames whose offset has come by `now`, oldest first. */
  due(now: number): ReplayFrame[] {
    const out: ReplayFrame[] = [];
    while (this.#next < this.#frames.length && this.#startedAt + this.#frames[this.#next]!.offsetMs <= now)
      out.push(this.#frames[this.#next++]!);
    return out;
  }
}
