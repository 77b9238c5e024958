/**
 * The API token, kept for the tab's session only (sessionStorage) and sent as a bearer
 * header: never in a URL, where logs and proxies would keep it.
 */
const TOKEN_KEY = 'streamforge.console.token';

export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function saveToken(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function requestHeaders(json: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (json) headers['content-type'] = 'application/json';
  if (token()) headers.authorization = `Bearer ${token()}`;
  return headers;
}
