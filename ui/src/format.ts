// Times are stored in UTC and shown in Europe/Paris; labels in French.

import type { DoctorStatus, VisitStatus } from './types';

const PARIS = 'Europe/Paris';
const timeFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: PARIS, hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat('fr-FR', {
  timeZone: PARIS,
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** "14:05" in Paris time. */
export function clock(iso: string | null | undefined): string {
  return iso ? timeFmt.format(new Date(iso)) : '';
}

const dayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: PARIS, day: '2-digit', month: '2-digit', year: 'numeric' });

/** "23/11/2026" in Paris time (the day of an instant, not a birth date). */
export function day(iso: string | null | undefined): string {
  return iso ? dayFmt.format(new Date(iso)) : '';
}

/** "23/11/2026 14:05" in Paris time. */
export function dateTime(iso: string | null | undefined): string {
  return iso ? dateTimeFmt.format(new Date(iso)).replace(',', '') : '';
}

/** A wait, as a dispatcher reads it: "45 s", "12 min", "2 h 05". */
export function since(iso: string, now: number = Date.now()): string {
  const s = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}`;
}

/** Age in whole years from a YYYY-MM-DD birth date. */
export function age(birth: string | null, now: Date = new Date()): number | null {
  if (!birth) return null;
  const [y, m, d] = birth.split('-').map(Number);
  let a = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) a--;
  return a;
}

export const VISIT_STATUS: Record<VisitStatus, string> = {
  received: 'En attente',
  assigned: 'Attribuée',
  en_route: 'En route',
  on_site: 'Sur place',
  closed: 'Clôturée',
  cancelled: 'Annulée',
  redirected_15: 'Transférée au 15',
};

export const DOCTOR_STATUS: Record<DoctorStatus, string> = {
  off_duty: 'Hors service',
  available: 'Disponible',
  en_route: 'En route',
  on_site: 'Sur place',
  at_centre: 'Au centre',
};

export const SKILLS: Record<string, string> = { ecg: 'ECG', pediatric: 'Pédiatrie', geriatric: 'Gériatrie' };

export const ROLES: Record<string, string> = {
  admin: 'Administration',
  dispatcher: 'Standard',
  doctor: 'Médecin',
  assistant: 'Assistante',
  ehpad_nurse: 'Infirmière EHPAD',
  partner_nurse: 'Infirmière partenaire',
};

export function patientName(p: { birth_name: string; used_name: string | null; first_names: string }): string {
  const used = p.used_name && p.used_name !== p.birth_name ? `${p.used_name} (née ${p.birth_name})` : p.birth_name;
  return `${used} ${p.first_names}`;
}

/** A `geo:` link that opens the phone's navigation app at the address. */
export function geoLink(a: { line: string; postcode?: string | null; city: string; lat?: number | null; lon?: number | null }): string {
  const q = encodeURIComponent(`${a.line}, ${a.postcode ?? ''} ${a.city}`.replace(/\s+/g, ' ').trim());
  if (a.lat != null && a.lon != null) return `geo:${a.lat},${a.lon}?q=${a.lat},${a.lon}(${q})`;
  return `geo:0,0?q=${q}`;
}

export type Platform = 'ios' | 'android' | 'other';

/** The phone's system, from the browser's User-Agent (iPadOS says Macintosh, with touch). */
export function platformOf(ua: string = navigator.userAgent, touch: number = navigator.maxTouchPoints ?? 0): Platform {
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && touch > 1)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  return 'other';
}

/**
 * Links that start navigation to an address on this phone, the usual app first: Apple Plans on
 * iOS (which does not open geo:), the system's choice (geo:) on Android, then Google Maps and Waze.
 */
export function navigationLinks(
  a: { line: string; postcode?: string | null; city: string; lat?: number | null; lon?: number | null },
  platform: Platform,
): { label: string; href: string }[] {
  const text = `${a.line}, ${a.postcode ?? ''} ${a.city}`.replace(/\s+/g, ' ').trim();
  const q = encodeURIComponent(text);
  const at = a.lat != null && a.lon != null ? `${a.lat},${a.lon}` : null;
  const apple = { label: 'Plans', href: at ? `https://maps.apple.com/?daddr=${at}&q=${q}` : `https://maps.apple.com/?daddr=${q}` };
  const google = {
    label: 'Google Maps',
    href: `https://www.google.com/maps/dir/?api=1&destination=${at ? encodeURIComponent(at) : q}`,
  };
  const waze = { label: 'Waze', href: at ? `https://waze.com/ul?ll=${encodeURIComponent(at)}&navigate=yes` : `https://waze.com/ul?q=${q}&navigate=yes` };
  if (platform === 'ios') return [apple, google, waze];
  if (platform === 'android') return [{ label: 'Naviguer', href: geoLink(a) }, google, waze];
  return [google, waze];
}

/** A phone number as a tel: link (spaces and dots dropped, a leading + kept). */
export function telLink(phone: string): string {
  return `tel:${phone.replace(/[^\d+]/g, '')}`;
}

export const OPEN: VisitStatus[] = ['received', 'assigned', 'en_route', 'on_site'];

/** "12 min, après 1 visite, ECG": why this doctor. */
export function suggestionReason(s: { eta_min: number; visits_before: number }, required: string[]): string {
  const parts = [`${Math.round(s.eta_min)} min`];
  if (s.visits_before > 0) parts.push(`après ${s.visits_before} visite${s.visits_before > 1 ? 's' : ''}`);
  if (required.length) parts.push(required.map((r) => SKILLS[r] ?? r).join(', '));
  return parts.join(', ');
}


/**
 * A doctor's position as the board words it: its age, « ancienne » once stale (the hub says when),
 * « partage suspendu » when he paused it. `stale` says whether to show it as uncertain.
 */
export function positionWords(
  d: { position: { at: string; stale_at: string; accuracy_m?: number | null } | null; sharing_paused_at?: string | null },
  now: number = Date.now(),
): { text: string; stale: boolean } {
  if (d.sharing_paused_at) return { text: d.position ? `partage suspendu (il y a ${since(d.position.at, now)})` : 'partage suspendu', stale: true };
  if (!d.position) return { text: '—', stale: true };
  const stale = now >= new Date(d.position.stale_at).getTime();
  return { text: `${stale ? 'ancienne, ' : ''}il y a ${since(d.position.at, now)}`, stale };
}

/** After how long a visit given to a doctor and not acknowledged is shown as not seen. */
export const UNSEEN_ALERT_MIN = 3;

/**
 * Whether the doctor saw the visit given to him, as the dispatcher reads it: "vu à 02:14",
 * "non vue · 6 min" once `UNSEEN_ALERT_MIN` have passed, else "envoyée" (his phone is ringing).
 * Null when the visit is not (or no longer) waiting for his acknowledgement.
 */
export function seenWords(
  v: { status: VisitStatus; assigned_at?: string | null; seen_at?: string | null },
  now: number = Date.now(),
): { text: string; late: boolean } | null {
  if (v.status !== 'assigned' && v.status !== 'en_route' && v.status !== 'on_site') return null;
  if (v.seen_at) return { text: `vu à ${clock(v.seen_at)}`, late: false };
  if (v.status !== 'assigned' || !v.assigned_at) return null;
  const min = (now - new Date(v.assigned_at).getTime()) / 60000;
  if (min >= UNSEEN_ALERT_MIN) return { text: `non vue · ${since(v.assigned_at, now)}`, late: true };
  return { text: 'envoyée', late: false };
}

// --- The call centre's day (#16) ----------------------------------------------------------------

/** How a call ended, in the dispatcher's words. */
export const OUTCOMES: Record<string, string> = {
  home_visit: 'Visite à domicile',
  advice: 'Conseil donné',
  teleconsultation: 'Téléconsultation',
  centre: 'Consultation au centre',
  samu_15: 'Transféré au 15',
  hung_up: 'Raccroché',
};

/** Why a visit is cancelled: the usual ones, one click; anything else is typed. */
export const CANCEL_REASONS = [
  'Va mieux, ne souhaite plus de visite',
  'Parti aux urgences',
  'Doublon d’un autre appel',
  'Patient absent à l’arrivée',
  'Annulé par l’appelant',
  'Vu par son médecin traitant',
];

const partsFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: PARIS,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** An instant's Paris calendar day ("2026-12-04") and minutes since that day's midnight. */
export function parisParts(iso: string | Date): { date: string; minutes: number } {
  const p = Object.fromEntries(partsFmt.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, minutes: Number(p.hour) * 60 + Number(p.minute) };
}

/** The UTC instant (ISO) of a Paris wall-clock time: "2026-12-04" + "20:00" → "2026-12-04T19:00:00.000Z". */
export function parisToUtc(date: string, time: string): string {
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // Paris is UTC+1 or +2: try each, keep the one whose Paris reading is the time asked.
  for (const offset of [1, 2]) {
    const t = new Date(asUtc - offset * 3600_000);
    const p = parisParts(t);
    if (p.date === date && p.minutes === h * 60 + mi) return t.toISOString();
  }
  return new Date(asUtc - 3600_000).toISOString();
}

/** A Paris calendar day moved by `n` days ("2026-12-04", 3 → "2026-12-07"). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The Monday of the Paris week an instant falls in. */
export function mondayOf(iso: string | Date): string {
  const { date } = parisParts(iso);
  const [y, m, d] = date.split('-').map(Number);
  const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
  return addDays(date, -weekday);
}

const weekdayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: 'UTC', weekday: 'short', day: '2-digit', month: '2-digit' });

/** "lun. 07/12" for a Paris calendar day. */
export function dayLabel(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return weekdayFmt.format(new Date(Date.UTC(y, m - 1, d)));
}

/** The digits a phone number is matched by, as the hub does (its last 9). */
export function phoneKey(s: string): string {
  const digits = s.replace(/\D/g, '');
  return digits.length >= 9 ? digits.slice(-9) : digits;
}
