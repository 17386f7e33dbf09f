// What the doctor's phone keeps for a night with bad signal (#15), in IndexedDB (idb-keyval):
//
// - reads: the last answer of each read of the round (visits, patients, reports), so that the
//   round and each patient's file open in a cellar; shown with the time they date from;
// - drafts: the report as typed, at every keystroke, until the hub has it (« non envoyé »);
// - steps: « en route » / « sur place » tapped offline, each with its Idempotency-Key and the
//   time it was tapped, replayed in order when the network returns; one the hub refuses is
//   shown, not lost.
//
// All of it is health data on a phone: only the doctor's and the assistant's seats keep it. The
// copies of reads go when the session ends; drafts and steps wait for the same person to log in
// again (another person's login wipes them); logout wipes everything, after a warning if
// something is still unsent.

import { clear, createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { Observations } from './report';
import type { Visit } from './types';

let readStore: UseStore | null = null;
let draftStore: UseStore | null = null;
let stepStore: UseStore | null = null;

const available = () => typeof indexedDB !== 'undefined';
const reads = () => (readStore ??= createStore('chevet-reads', 'reads'));
const drafts = () => (draftStore ??= createStore('chevet-drafts', 'drafts'));
const steps = () => (stepStore ??= createStore('chevet-steps', 'steps'));

const KEEP_KEY = 'chevet.offline.keep';

/**
 * Whether this seat keeps copies for offline use: set at login from the role, and remembered so
 * that a reload without network (the shell from the service worker) finds the round again.
 */
let keeping = available() && typeof localStorage !== 'undefined' && localStorage.getItem(KEEP_KEY) === '1';
export function keepOffline(on: boolean) {
  keeping = on && available();
  if (keeping) localStorage.setItem(KEEP_KEY, '1');
  else localStorage.removeItem(KEEP_KEY);
}

/** The reads worth keeping: the round and what a visit's screen shows. */
export function keepsRead(path: string): boolean {
  return (
    keeping &&
    /^\/(me|doctors|nurse-bookings\?active=true|visits\?limit=\d+|visits\/\d+(\/(report|ecgs|letter|nurse-bookings))?|patients\/\d+(\/history)?)$/.test(path)
  );
}

export interface KeptRead {
  at: string;
  body: unknown;
}

// --- Offline state, for the banner -------------------------------------------------------------

/** When the hub last failed to answer a read that was served from the phone's copy. */
let offlineSince: string | null = null;
const listeners = new Set<(since: string | null) => void>();
export function onOfflineChange(f: (since: string | null) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function setOffline(since: string | null) {
  if (since === offlineSince) return;
  offlineSince = since;
  listeners.forEach((f) => f(since));
}
export const readFromCopy = (at: string) => setOffline(offlineSince ?? at);
export const readFromHub = () => setOffline(null);

export async function keepRead(path: string, body: unknown) {
  if (!keepsRead(path)) return;
  await set(path, { at: new Date().toISOString(), body } satisfies KeptRead, reads()).catch(() => {});
}
export async function keptRead(path: string): Promise<KeptRead | undefined> {
  return get<KeptRead>(path, reads()).catch(() => undefined);
}

// --- Report drafts -----------------------------------------------------------------------------

export interface Draft {
  observations: Observations;
  /** The hub's version the draft was typed on, and the observations it had then. */
  version: number;
  base: Observations;
  at: string;
}

export async function saveDraft(visitId: number, d: Omit<Draft, 'at'>) {
  if (!available()) return;
  await set(visitId, { ...d, at: new Date().toISOString() }, drafts()).catch(() => {});
}
export async function draftOf(visitId: number): Promise<Draft | undefined> {
  if (!available()) return undefined;
  return get<Draft>(visitId, drafts()).catch(() => undefined);
}
export async function dropDraft(visitId: number) {
  if (!available()) return;
  await del(visitId, drafts()).catch(() => {});
}

// --- Steps made offline ------------------------------------------------------------------------

export interface PendingStep {
  /** Idempotency-Key, made once when the step was tapped. */
  key: string;
  visitId: number;
  /** `en-route` or `on-site`. */
  path: string;
  /** When it was tapped. */
  at: string;
  /** Why the hub refused it, once it did (kept until the doctor dismisses it). */
  refused?: string;
}

const STEP_TO: Record<string, Visit['status']> = { 'en-route': 'en_route', 'on-site': 'on_site' };
const ORDER: Visit['status'][] = ['received', 'assigned', 'en_route', 'on_site', 'closed'];

/** The visit as the doctor sees it: the hub's, moved on by his steps not sent yet. */
export function projected(v: Visit, pending: PendingStep[]): Visit {
  let status = v.status;
  for (const s of pending) {
    if (s.visitId !== v.id || s.refused) continue;
    const to = STEP_TO[s.path];
    if (to && ORDER.indexOf(to) > ORDER.indexOf(status)) status = to;
  }
  return status === v.status ? v : { ...v, status };
}

/** Whether the hub's visit already is where `s` would take it (the step reached it before). */
export function alreadyThere(v: Visit | undefined, s: PendingStep): boolean {
  const to = STEP_TO[s.path];
  return !!v && !!to && ORDER.indexOf(v.status) >= ORDER.indexOf(to);
}


/** Steps in the order they were tapped. */
export async function pendingSteps(): Promise<PendingStep[]> {
  if (!available()) return [];
  const all = await entries<string, PendingStep>(steps()).catch(() => []);
  return all.map(([, s]) => s).sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key));
}
export async function queueStep(s: PendingStep) {
  await set(s.key, s, steps());
}
export async function dropStep(key: string) {
  await del(key, steps()).catch(() => {});
}
export async function refuseStep(s: PendingStep, why: string) {
  await set(s.key, { ...s, refused: why }, steps()).catch(() => {});
}

/** The copies of reads, when the session ends (drafts and steps wait for the next login). */
export async function forgetReads() {
  keepOffline(false);
  setOffline(null);
  if (!available()) return;
  await clear(reads()).catch(() => {});
}

/** Everything this phone kept: at logout. */
export async function forgetAll() {
  await forgetReads();
  if (!available()) return;
  await Promise.all([clear(drafts()), clear(steps())]).catch(() => {});
}

/** Whether something typed or tapped here has not reached the hub yet. */
export async function somethingUnsent(): Promise<boolean> {
  if (!available()) return false;
  const [d, s] = await Promise.all([entries(drafts()).catch(() => []), pendingSteps()]);
  return d.length > 0 || s.some((x) => !x.refused);
}

const OWNER_KEY = 'chevet.offline.owner';

/**
 * At login: what another person left on this phone is not replayed under this account (and is
 * wiped); the seat keeps copies if it is a doctor's or an assistant's.
 */
export async function startOffline(userId: number, role: string) {
  if (localStorage.getItem(OWNER_KEY) !== String(userId)) {
    await forgetAll();
    localStorage.setItem(OWNER_KEY, String(userId));
  }
  keepOffline(role === 'doctor' || role === 'assistant');
}
