// The doctor's phone rings on a visit given to him: a sound, a vibration and a system
// notification (through the service worker, so it shows while the app is in the background),
// again every `REPEAT_MS` until he taps « Vu » (or sets off). The hub records when he saw it and
// the dispatcher reads « vu à 02:14 », or « non vue » after a few minutes.
//
// The notification names no patient (it shows on a locked screen): the urgency, the motive and
// the town.

import { useEffect, useRef, useState } from 'preact/hooks';
import { subscribePush } from './push';
import type { Visit } from './types';

/** How often an unacknowledged visit rings again. */
export const REPEAT_MS = 20_000;

/** Visits given to `doctorId` that he has not acknowledged yet, most urgent first. */
export function unseenVisits(visits: Visit[], doctorId: number | undefined): Visit[] {
  if (doctorId == null) return [];
  return visits
    .filter((v) => v.doctor?.id === doctorId && v.status === 'assigned' && !v.seen_at)
    .sort((a, b) => a.urgency - b.urgency || (a.assigned_at ?? '').localeCompare(b.assigned_at ?? ''));
}

/** What the notification says: no patient name (a locked screen shows it). */
export function notificationText(v: Visit): { title: string; body: string } {
  return { title: `Nouvelle visite P${v.urgency}`, body: `${v.motive} · ${v.address.city}` };
}

let audio: AudioContext | null = null;

/**
 * Browsers start sound only after a gesture: the first tap anywhere on the page unlocks it for
 * the rest of the garde.
 */
export function unlockSound() {
  const Ctx = (window as any).AudioContext ?? (window as any).webkitAudioContext;
  if (!Ctx) return;
  audio ??= new Ctx();
  if (audio!.state === 'suspended') audio!.resume().catch(() => {});
}

/** Two rising tones, twice, and the phone vibrates (where it can). */
export function ring() {
  navigator.vibrate?.([400, 200, 400, 200, 400]);
  if (!audio || audio.state !== 'running') return;
  const t0 = audio.currentTime;
  [0, 0.25, 0.6, 0.85].forEach((dt, i) => {
    const osc = audio!.createOscillator();
    const gain = audio!.createGain();
    osc.frequency.value = i % 2 ? 1175 : 880;
    gain.gain.setValueAtTime(0.0001, t0 + dt);
    gain.gain.exponentialRampToValueAtTime(0.4, t0 + dt + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.22);
    osc.connect(gain).connect(audio!.destination);
    osc.start(t0 + dt);
    osc.stop(t0 + dt + 0.24);
  });
}

/** Shows the system notification of `v` (through the service worker when there is one). */
export async function notify(v: Visit) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const { title, body } = notificationText(v);
  const options: NotificationOptions & { renotify?: boolean; vibrate?: number[] } = {
    body,
    tag: `visit-${v.id}`,
    renotify: true,
    requireInteraction: true,
    vibrate: [400, 200, 400],
    data: { visit: v.id },
    icon: '/icon-192.png',
  };
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (reg) return await reg.showNotification(title, options);
    new Notification(title, options);
  } catch {
    // A notification refused by the platform: the page still rings.
  }
}

export type Permission = NotificationPermission | 'unsupported';

export function notificationPermission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/**
 * Rings for each visit of `unseen` once when it appears, then all of them again every
 * `REPEAT_MS` until they are acknowledged.
 */
export function useVisitAlerts(unseen: Visit[]) {
  const rang = useRef(new Set<number>());
  const [permission, setPermission] = useState<Permission>(notificationPermission());

  // Allowed: the phone also rings with the app closed, where the hub sends Web Push.
  useEffect(() => {
    if (permission === 'granted') subscribePush();
  }, [permission]);

  useEffect(() => {
    const unlock = () => unlockSound();
    window.addEventListener('pointerdown', unlock);
    window.addEventListener('keydown', unlock);
    return () => {
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
    };
  }, []);

  const ids = unseen.map((v) => v.id).join(',');
  useEffect(() => {
    const fresh = unseen.filter((v) => !rang.current.has(v.id));
    for (const v of fresh) {
      rang.current.add(v.id);
      notify(v);
    }
    if (fresh.length) ring();
    // Acknowledged ones may ring again if they come back (given again).
    for (const id of rang.current) if (!unseen.some((v) => v.id === id)) rang.current.delete(id);
    if (!unseen.length) return;
    const again = setInterval(() => {
      ring();
      unseen.forEach((v) => notify(v));
    }, REPEAT_MS);
    return () => clearInterval(again);
  }, [ids]);

  async function askPermission() {
    if (typeof Notification === 'undefined') return;
    unlockSound();
    setPermission(await Notification.requestPermission());
  }
  return { permission, askPermission };
}
