/** Calls to the manager's API from the page, with the token and the API's own error messages. */
import { askToken } from './token-dialog.ts';
import { requestHeaders } from './token-store.ts';

/** The API sits where the page does, minus /console (a path prefix in front of the manager stays). */
const BASE = location.pathname.replace(/\/console\/?$/, '');

export function apiUrl(path: string): string {
  return BASE + path;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** The answer's JSON; an ApiError carrying the API's message when it is not a 2xx (a 401 also asks for the token). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(apiUrl(path), {
    method,
    headers: requestHeaders(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: { message?: string } | null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  if (response.status === 401) askToken(parsed?.message || 'The API wants a bearer token.');
  if (!response.ok)
    throw new ApiError(parsed?.message || `${method} ${path} answered ${response.status}`, response.status);
  return parsed as T;
}
