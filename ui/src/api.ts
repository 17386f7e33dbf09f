// The hub's API: fetch with the session token, errors turned into French messages.

import { frenchError, type ErrorDetail } from './errors';
import { keepRead, keepsRead, keptRead, readFromCopy, readFromHub } from './offline';
import type {
  Delegation,
  Enrolment,
  Named,
  NewPartnerClient,
  NurseAct,
  NurseBooking,
  NurseBookingRequest,
  NurseCoverage,
  NurseNetwork,
  NurseOffer,
  PartnerClient,
  PartnerNetwork,
  PartnerNetworkInput,
  SecondFactor,
  SessionInfo,
} from './types';

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
    /** Why, as the hub classifies it (required, length, range, ...). */
    public reason: string | null = null,
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

interface Options {
  headers?: Record<string, string>;
  /** The request outlives the page (sent as it closes). */
  keepalive?: boolean;
}

/** One request to the hub; a failure becomes an ApiError worded in French. */
async function request(method: string, path: string, body: unknown, opts: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const t = token();
  if (t) headers['Authorization'] = `Bearer ${t}`;
  // A form (multipart) or a file's content (a CSV) is sent as it is; anything else as JSON.
  const form = body instanceof FormData || body instanceof Blob;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (body instanceof Blob && body.type) headers['Content-Type'] = body.type;
  let resp: Response;
  try {
    resp = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      credentials: 'same-origin',
      keepalive: opts.keepalive,
    });
  } catch {
    throw new ApiError(0, 'network', null, 'network error', frenchError(0, { code: 'network' }));
  }
  if (!resp.ok) {
    const json = await resp.json().catch(() => null);
    const e: ErrorDetail & { message?: string } = { code: 'unknown', ...(json?.error ?? {}) };
    if (resp.status === 401 && path !== '/auth/login') onSessionEnd();
    throw new ApiError(resp.status, e.code, e.field ?? null, e.message ?? '', frenchError(resp.status, e), e.reason ?? null);
  }
  return resp;
}

export async function api<T = any>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
  const resp = await request(method, path, body, { headers: extraHeaders });
  if (resp.status === 204) return undefined as T;
  return (await resp.json().catch(() => null)) as T;
}

/** A binary resource (a PDF), e.g. to show it in a new tab. */
export const getBlob = async (path: string): Promise<Blob> => (await request('GET', path, undefined)).blob();

/** Saves a resource (a CSV export) as a file named `filename` on this computer. */
export async function download(path: string, filename: string): Promise<void> {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await getBlob(path));
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * Sends a write as the page goes away (tab closed, reload): the request outlives the page and
 * nobody waits for its answer.
 */
export function sendOnLeave(method: string, path: string, body: unknown) {
  request(method, path, body, { keepalive: true }).catch(() => {});
}

/**
 * A read. On the doctor's phone the answers of the round's reads are kept, and when the network
 * is gone the kept one is served instead (the banner says since when).
 */
export async function get<T = any>(path: string): Promise<T> {
  if (!keepsRead(path)) return api<T>('GET', path);
  try {
    const body = await api<T>('GET', path);
    readFromHub();
    keepRead(path, body);
    return body;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 0)) throw e;
    const kept = await keptRead(path);
    if (!kept) throw e;
    readFromCopy(kept.at);
    return kept.body as T;
  }
}
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

/** The hub's live event stream (the session cookie authenticates it). */
export const openEventStream = () => new EventSource(apiUrl('/events'), { withCredentials: true });

/**
 * A fresh key for `Idempotency-Key`: crypto.randomUUID() where the page is a secure context
 * (https, localhost), else a version 4 UUID from crypto.getRandomValues (a hub reached over
 * plain http on the LAN).
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- Partner nurses (#7): the association's side -------------------------------------------------

export const nurseActs = () => get<NurseAct[]>('/nurse-acts');
export const partnerNetworks = () => get<PartnerNetwork[]>('/partner-networks');
export const addPartnerNetwork = (body: PartnerNetworkInput) => post<PartnerNetwork>('/partner-networks', body);
export const updatePartnerNetwork = (id: number, body: PartnerNetworkInput) => put<PartnerNetwork>(`/partner-networks/${id}`, body);
/** The networks a booking of `act` for this visit would be offered to, in order. */
export const suitableNetworks = (visitId: number, act: string) =>
  get<Named[]>(`/partner-networks/suitable?visit_id=${visitId}&act=${encodeURIComponent(act)}`);
/**
 * Books a nurse for the visit. `key` is made once per dialog opening and sent again on a
 * resubmission, so that a double tap or a retry after a lost answer never books twice.
 */
export const bookNurse = (visitId: number, body: NurseBookingRequest, key: string) =>
  api<NurseBooking>('POST', `/visits/${visitId}/nurse-bookings`, body, { 'Idempotency-Key': key });
export const visitNurseBookings = (visitId: number) => get<NurseBooking[]>(`/visits/${visitId}/nurse-bookings`);
/** Dispatchers and admins: all; a doctor or an assistant: theirs. */
export const activeNurseBookings = () => get<NurseBooking[]>('/nurse-bookings?active=true');
export const cancelNurseBooking = (id: number, reason?: string) =>
  post<NurseBooking>(`/nurse-bookings/${id}/cancel`, reason ? { reason } : {});
/** Answers a time the network proposed (accept: the network confirms; refuse: the next network is tried). */
export const answerNurseProposal = (id: number, accept: boolean) => post<NurseBooking>(`/nurse-bookings/${id}/proposal`, { accept });

// --- Partner nurses (#7): a hub that is a nurse network ------------------------------------------

export const nurseNetworks = () => get<NurseNetwork[]>('/nurse-networks');
export const addNurseNetwork = (body: { name: string; phone?: string | null }) => post<NurseNetwork>('/nurse-networks', body);
export const partnerClients = () => get<PartnerClient[]>('/partner-clients');
/** The answer carries the client's API key, shown once. */
export const addPartnerClient = (body: { name: string; network_id: number }) => post<NewPartnerClient>('/partner-clients', body);
export const revokePartnerClient = (id: number) => post<PartnerClient>(`/partner-clients/${id}/revoke`);
export const myCoverage = () => get<NurseCoverage>('/me/coverage');
export const setMyCoverage = (c: NurseCoverage) => put<NurseCoverage>('/me/coverage', c);
export const nurseCoverage = (userId: number) => get<NurseCoverage>(`/nurses/${userId}/coverage`);
export const setNurseCoverage = (userId: number, c: NurseCoverage) => put<NurseCoverage>(`/nurses/${userId}/coverage`, c);
export const nurseOffers = () => get<NurseOffer[]>('/nurse-offers');
/** Without `expectedAt` the hub expects her in 30 minutes. */
export const acceptOffer = (id: number, expectedAt?: string) =>
  post<NurseOffer>(`/nurse-offers/${id}/accept`, expectedAt ? { expected_at: expectedAt } : {});
export const declineOffer = (id: number) => post<NurseOffer>(`/nurse-offers/${id}/decline`);
export const proposeOffer = (id: number, proposedAt: string) => post<NurseOffer>(`/nurse-offers/${id}/propose`, { proposed_at: proposedAt });
export const offerDone = (id: number) => post<NurseOffer>(`/nurse-offers/${id}/done`);

// --- One's own account (#14) ---------------------------------------------------------------------

export const changePassword = (current_password: string, new_password: string) =>
  post<void>('/account/password', { current_password, new_password });
export const mySessions = () => get<SessionInfo[]>('/account/sessions');
export const endSession = (id: string) => del(`/account/sessions/${encodeURIComponent(id)}`);
export const endOtherSessions = () => api<{ ended: number }>('DELETE', '/account/sessions');
export const secondFactor = () => get<SecondFactor>('/account/totp');
export const beginSecondFactor = () => post<Enrolment>('/account/totp');
export const confirmSecondFactor = (code: string) => post<void>('/account/totp/confirm', { code });
export const disableSecondFactor = (code: string) => post<void>('/account/totp/disable', { code });
export const delegations = () => get<Delegation[]>('/delegations');
export const acceptDelegation = (id: number) => post<Delegation>(`/delegations/${id}/accept`);
export const endDelegation = (id: number) => del(`/delegations/${id}`);

// Web Push (#15): the hub's key, and this browser's subscription.
export const pushKey = () => get<{ public_key: string | null }>('/push/key');
export const addPushSubscription = (s: PushSubscriptionJSON) => post<{ id: number; created_at: string }>('/push/subscriptions', s);
export const removePushSubscription = (id: number) => del(`/push/subscriptions/${id}`);
