// The hub's API: fetch with the session token, errors turned into French messages.

import { frenchError } from './errors';

const TOKEN_KEY = 'chevet.token';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public field: string | null,
    /** The hub's own words (English), for logs. */
    public detail: string,
    /** What the person is shown, in French. */
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t: string | null) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Called when the hub says the session is over. */
let onSessionEnd: () => void = () => {};
export function whenSessionEnds(f: () => void) {
  onSessionEnd = f;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const t = token();
  if (t) headers['Authorization'] = `Bearer ${t}`;
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  let resp: Response;
  try {
    resp = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', null, 'network error', 'Le serveur ne répond pas : vérifiez la connexion.');
  }
  if (resp.status === 204) return undefined as T;
  const json = await resp.json().catch(() => null);
  if (!resp.ok) {
    const e = json?.error ?? {};
    const code = e.code ?? 'unknown';
    const field = e.field ?? null;
    if (resp.status === 401 && path !== '/auth/login') onSessionEnd();
    throw new ApiError(resp.status, code, field, e.message ?? '', frenchError(resp.status, code, field, e.message ?? ''));
  }
  return json as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T = any>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T = any>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = (path: string) => api('DELETE', path);
/** A multipart upload (e.g. ECG files, each part named `file`). */
export const upload = <T = any>(path: string, form: FormData) => api<T>('POST', path, form);

/**
 * The URL of an API resource for an <img>, a link or a new tab: the login also set the session
 * cookie (path /api), which such requests carry instead of the bearer token.
 */
export const apiUrl = (path: string) => `/api/v1${path}`;
