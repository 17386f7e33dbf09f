// Web Push (#15): once the doctor allowed notifications, his browser subscribes at its push
// service with the hub's VAPID key and gives the hub the subscription; a visit given to him then
// rings his phone even with the app closed (the service worker shows it, sw/sw.js). Nothing is
// done when the hub has no key (the association did not configure Web Push) or the browser
// cannot push: the page still rings while it is open.
//
// Only the subscription's id is kept here (no health data), to remove it at logout.

import { addPushSubscription, pushKey, removePushSubscription } from './api';

const KEPT = 'chevet.push.subscription';

/** The bytes of a base64url text (a VAPID public key). */
export function base64UrlBytes(b64url: string): Uint8Array {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export type PushState = 'subscribed' | 'off' | 'unsupported' | 'failed';

/** Subscribes this browser for the logged-in doctor (again: the hub moves it to him). */
export async function subscribePush(): Promise<PushState> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined') return 'unsupported';
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return 'off';
  try {
    const { public_key } = await pushKey();
    if (!public_key) return 'off';
    const reg = await navigator.serviceWorker.ready;
    const key = base64UrlBytes(public_key);
    let sub = await reg.pushManager.getSubscription();
    // A subscription made with another key (the association changed it) is replaced.
    const current = sub?.options.applicationServerKey;
    if (sub && current && !sameBytes(new Uint8Array(current), key)) {
      await sub.unsubscribe();
      sub = null;
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as BufferSource });
    const saved = await addPushSubscription(sub.toJSON());
    localStorage.setItem(KEPT, String(saved.id));
    return 'subscribed';
  } catch {
    // No push service reachable (or refused): the page rings while it is open.
    return 'failed';
  }
}

/** At logout: this browser no longer rings for this account. */
export async function unsubscribePush() {
  const id = Number(localStorage.getItem(KEPT));
  localStorage.removeItem(KEPT);
  if (id) await removePushSubscription(id).catch(() => {});
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    await (await reg?.pushManager?.getSubscription())?.unsubscribe();
  } catch {
    // Nothing to undo.
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
