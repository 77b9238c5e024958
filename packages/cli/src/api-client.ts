/**
 * The CLI's client of the queue-manager API: its address comes from STREAMFORGE_API_URL or
 * the running stack's stack.json, its token from STREAMFORGE_API_TOKEN.
 */
import { env } from '@streamforge/core/config';
import { readStackState, stateDir } from '@streamforge/platform';

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, message: string) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function apiUrl(): string {
  const configured = env('STREAMFORGE_API_URL');
  if (configured) return configured.replace(/\/+$/, '');
  const state = readStackState(stateDir());
  if (state?.api_url && state.status === 'ready') return state.api_url;
  throw new Error('no API to talk to: start the stack with `npx streamforge up` (or set STREAMFORGE_API_URL)');
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const token = env('STREAMFORGE_API_TOKEN');
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${apiUrl()}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new Error(`cannot reach the API at ${apiUrl()}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const message = (parsed as { message?: string } | undefined)?.message ?? text;
    throw new ApiError(response.status, parsed, `${method} ${path} → ${response.status}: ${message}`);
  }
  return parsed as T;
}
