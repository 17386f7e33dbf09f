// Partner nurses (#7): a booking's status in French (the doctor's full wording and the board's
// badge), the booking windows offered to the doctor, the partner nurse's offers, and the area of a
// network or a nurse as a form. Times in Europe/Paris. No DOM here: everything is unit-tested.

import { clock, geoLink } from './format';
import type { Address, NetworkOutcome, NurseArea, NurseBooking, NurseOffer } from './types';

export type Tone = 'ok' | 'wait' | 'bad' | 'off';

// --- The booking, as the doctor, his assistant and the dispatcher read it ------------------------

/** A booking still under way: not done, cancelled or declined (the hub's `active=true`). */
export function isActiveBooking(b: Pick<NurseBooking, 'status'>): boolean {
  return b.status !== 'done' && b.status !== 'cancelled' && b.status !== 'declined';
}

export interface BookingLabel {
  /** The status line, e.g. « Acceptée — Hélène Jacquet, arrivée prévue 11:52 ». */
  text: string;
  tone: Tone;
  /** A proposed time waits for the doctor's answer (Accepter / Refuser). */
  answer: boolean;
  /** The booking can still be cancelled. */
  cancel: boolean;
}

/** The status of a booking, in the contract's words. */
export function bookingLabel(b: NurseBooking): BookingLabel {
  const active = isActiveBooking(b);
  if (b.delivery === 'cancelling') return { text: 'Annulation en cours…', tone: 'wait', answer: false, cancel: false };
  switch (b.status) {
    case 'requested': {
      const cancel = true;
      if (b.delivery === 'sending' && b.last_error && b.next_attempt_at) {
        return { text: `Réseau injoignable — nouvel essai à ${clock(b.next_attempt_at)}`, tone: 'bad', answer: false, cancel };
      }
      if (b.delivery === 'sending') return { text: 'Envoi en cours…', tone: 'wait', answer: false, cancel };
      if (b.delivery === 'held' || b.delivery === 'waiting') return { text: "En attente d'une infirmière", tone: 'wait', answer: false, cancel };
      return { text: 'Demandée', tone: 'wait', answer: false, cancel };
    }
    case 'accepted': {
      const who = b.nurse_name ? ` — ${b.nurse_name}` : '';
      const when = b.expected_at ? `, arrivée prévue ${clock(b.expected_at)}` : '';
      return { text: `Acceptée${who}${when}`, tone: 'ok', answer: false, cancel: active };
    }
    case 'proposed': {
      const text = b.proposed_at ? `Autre horaire proposé : ${clock(b.proposed_at)}` : 'Autre horaire proposé';
      // Answered already: the answer is on its way to the network.
      if (b.delivery === 'sending') return { text: `${text} — réponse en cours d'envoi…`, tone: 'wait', answer: false, cancel: false };
      return { text, tone: 'wait', answer: true, cancel: active };
    }
    case 'declined':
      return { text: 'Refusée par tous les réseaux', tone: 'bad', answer: false, cancel: false };
    case 'done':
      return { text: 'Soin réalisé', tone: 'ok', answer: false, cancel: false };
    case 'cancelled':
    default:
      return { text: 'Annulée', tone: 'off', answer: false, cancel: false };
  }
}

export const OUTCOMES: Record<NetworkOutcome, string> = {
  declined: 'a refusé',
  no_answer: 'sans réponse',
  unreachable: 'injoignable',
  refused_proposal: 'horaire refusé',
  not_covered: 'ne couvre pas',
  refused: 'demande refusée',
};

/** « Réseaux essayés : A (a refusé), B (injoignable) », or null when none was. */
export function triedText(b: Pick<NurseBooking, 'networks_tried'>): string | null {
  if (!b.networks_tried?.length) return null;
  const each = b.networks_tried.map((n) => `${n.name} (${OUTCOMES[n.outcome] ?? n.outcome})`);
  return `${b.networks_tried.length > 1 ? 'Réseaux essayés' : 'Réseau essayé'} : ${each.join(', ')}`;
}

/** The smaller lines under the status: the network, the window, who asked. */
export function bookingDetails(b: NurseBooking): string[] {
  const lines: string[] = [];
  if (b.network && (isActiveBooking(b) || b.status === 'done')) lines.push(`Réseau : ${b.network.name}`);
  if (isActiveBooking(b)) lines.push(`À faire avant ${clock(b.window_end)}`);
  const tried = triedText(b);
  if (tried) lines.push(tried);
  const by = b.on_behalf_of ? `${b.requested_by.name} pour ${b.on_behalf_of.name}` : b.requested_by.name;
  lines.push(`Demandée à ${clock(b.created_at)} par ${by}`);
  return lines;
}

/** The board's compact badge: « 🩺 Infirmière : acceptée 11:52 ». */
export function bookingBadge(b: NurseBooking): { text: string; tone: Tone; title: string } {
  const full = bookingLabel(b);
  let short: string;
  if (b.delivery === 'cancelling') short = 'annulation…';
  else
    switch (b.status) {
      case 'requested':
        short = b.delivery === 'sending' ? (b.last_error && b.next_attempt_at ? 'réseau injoignable' : 'envoi…') : 'en attente';
        break;
      case 'accepted':
        short = b.expected_at ? `acceptée ${clock(b.expected_at)}` : 'acceptée';
        break;
      case 'proposed':
        short = b.proposed_at ? `horaire proposé ${clock(b.proposed_at)}` : 'horaire proposé';
        break;
      case 'declined':
        short = 'refusée';
        break;
      case 'done':
        short = 'soin réalisé';
        break;
      default:
        short = 'annulée';
    }
  return { text: `🩺 Infirmière : ${short}`, tone: full.tone, title: `${b.act_label} — ${full.text}` };
}

/** The booking a visit shows on the board: its newest active one, else its newest. */
export function bookingForVisit(bookings: NurseBooking[], visitId: number): NurseBooking | null {
  const mine = bookings.filter((b) => b.visit_id === visitId);
  if (!mine.length) return null;
  const newest = (xs: NurseBooking[]) => xs.reduce((a, b) => (Date.parse(b.created_at) > Date.parse(a.created_at) ? b : a));
  const active = mine.filter(isActiveBooking);
  return newest(active.length ? active : mine);
}

/** Puts a booking (from an answer or an event) into a list, newest first; an older snapshot is ignored. */
export function upsertBooking(list: NurseBooking[], b: NurseBooking): NurseBooking[] {
  const i = list.findIndex((x) => x.id === b.id);
  if (i < 0) return [b, ...list].sort((x, y) => Date.parse(y.created_at) - Date.parse(x.created_at));
  if (Date.parse(list[i].updated_at) > Date.parse(b.updated_at)) return list;
  const copy = list.slice();
  copy[i] = b;
  return copy;
}

// --- The doctor's request: when ---------------------------------------------------------------

export type WindowPreset = 'hour' | 'two_hours' | 'day';

export const WINDOW_PRESETS: { key: WindowPreset; label: string }[] = [
  { key: 'hour', label: "Dans l'heure" },
  { key: 'two_hours', label: 'Dans 2 h' },
  { key: 'day', label: 'Dans la journée' },
];

/** The clock in Paris at `at`. */
function parisParts(at: Date): { y: number; mo: number; d: number; h: number; mi: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: n('year'), mo: n('month'), d: n('day'), h: n('hour'), mi: n('minute') };
}

/** Minutes Paris is ahead of UTC at `at` (60 in winter, 120 in summer). */
function parisOffset(at: Date): number {
  const p = parisParts(at);
  const asUtc = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi);
  return Math.round((asUtc - Math.floor(at.getTime() / 60000) * 60000) / 60000);
}

/** Where « dans la journée » ends: the nurses' day, 20:00 in Paris. */
const DAY_ENDS_AT = 20 * 60;

/**
 * The minutes of the window the hub is asked for: an hour, two, or the rest of the nurses' day
 * (until 20:00 in Paris; at least three hours, so that an evening request still leaves time).
 */
export function windowMinutes(preset: WindowPreset, now: Date = new Date()): number {
  if (preset === 'hour') return 60;
  if (preset === 'two_hours') return 120;
  const p = parisParts(now);
  return Math.max(180, DAY_ENDS_AT - (p.h * 60 + p.mi));
}

/** « HH:MM » in Paris, `minutes` from `now` (the time inputs' defaults). */
export function clockIn(minutes: number, now: Date = new Date()): string {
  return clock(new Date(now.getTime() + minutes * 60000).toISOString());
}

/**
 * The instant a « HH:MM » typed on the phone means, in Paris time: today, or tomorrow when that
 * time of today is more than an hour gone (a proposal of 07:30 made at 23:00). Null when not a time.
 */
export function parisTimeToIso(hhmm: string, now: Date = new Date()): string | null {
  const m = hhmm.trim().match(/^([01]?\d|2[0-3])[:hH]([0-5]\d)$/);
  if (!m) return null;
  const [h, mi] = [Number(m[1]), Number(m[2])];
  const today = parisParts(now);
  const at = (dayShift: number) => {
    const wall = Date.UTC(today.y, today.mo - 1, today.d + dayShift, h, mi);
    // The offset at the wall time read as UTC is right but for the hour around a change; a
    // second look settles it.
    let t = wall - parisOffset(new Date(wall)) * 60000;
    t = wall - parisOffset(new Date(t)) * 60000;
    return t;
  };
  let t = at(0);
  if (t < now.getTime() - 60 * 60000) t = at(1);
  return new Date(t).toISOString();
}

// --- The partner nurse's offers -------------------------------------------------------------

export interface OfferLabel {
  text: string;
  tone: Tone;
  /** J'accepte / Proposer un autre horaire / Je ne peux pas. */
  open: boolean;
  /** Shown faded: another nurse's, or over. */
  greyed: boolean;
}

export function offerLabel(o: NurseOffer): OfferLabel {
  const takenByOther = { text: 'Prise par une autre infirmière', tone: 'off' as Tone, open: false, greyed: true };
  switch (o.status) {
    case 'offered':
      return { text: `À faire avant ${clock(o.window_end)}`, tone: 'wait', open: true, greyed: false };
    case 'accepted':
      if (!o.mine) return takenByOther;
      return { text: o.expected_at ? `Acceptée — arrivée prévue ${clock(o.expected_at)}` : 'Acceptée', tone: 'ok', open: false, greyed: false };
    case 'proposed':
      if (!o.mine) return takenByOther;
      return {
        text: `Horaire proposé${o.proposed_at ? ` : ${clock(o.proposed_at)}` : ''} — en attente de la réponse du médecin`,
        tone: 'wait',
        open: false,
        greyed: false,
      };
    case 'taken':
      return takenByOther;
    case 'done':
      return { text: 'Soin réalisé', tone: 'ok', open: false, greyed: !o.mine };
    case 'declined':
      return { text: 'Refusée', tone: 'off', open: false, greyed: true };
    case 'cancelled':
    default:
      return { text: 'Annulée par le demandeur', tone: 'off', open: false, greyed: true };
  }
}

/** Her screen's three lists: to take (soonest first), hers under way, and the rest (newest first). */
export function offerSections(offers: NurseOffer[]): { todo: NurseOffer[]; mine: NurseOffer[]; past: NurseOffer[] } {
  const t = (s: string | null | undefined) => (s ? Date.parse(s) : Infinity);
  const todo = offers.filter((o) => o.status === 'offered').sort((a, b) => t(a.window_end) - t(b.window_end));
  const mine = offers
    .filter((o) => o.mine && (o.status === 'accepted' || o.status === 'proposed'))
    .sort((a, b) => t(a.expected_at ?? a.proposed_at ?? a.window_end) - t(b.expected_at ?? b.proposed_at ?? b.window_end));
  const shown = new Set([...todo, ...mine]);
  const past = offers.filter((o) => !shown.has(o)).sort((a, b) => t(b.created_at) - t(a.created_at));
  return { todo, mine, past };
}

/** The patient's address as a line and a geo: link, whether the hub gives text or an object. */
export function offerAddress(a: string | Address | null | undefined): { text: string; geo: string } | null {
  if (!a) return null;
  if (typeof a === 'string') return { text: a, geo: `geo:0,0?q=${encodeURIComponent(a.replace(/\s+/g, ' ').trim())}` };
  return { text: [a.line, [a.postcode, a.city].filter(Boolean).join(' ')].filter(Boolean).join(', '), geo: geoLink(a) };
}

// --- The area of a network or a nurse ----------------------------------------------------------

export interface AreaForm {
  kind: 'anywhere' | 'postcodes' | 'circle';
  postcodes: string;
  lat: string;
  lon: string;
  radius_km: string;
}

export function areaToForm(a: NurseArea | undefined): AreaForm {
  const f: AreaForm = { kind: 'anywhere', postcodes: '', lat: '', lon: '', radius_km: '' };
  if (!a) return f;
  if ('postcodes' in a) return { ...f, kind: 'postcodes', postcodes: a.postcodes.join(', ') };
  return { ...f, kind: 'circle', lat: String(a.lat), lon: String(a.lon), radius_km: String(a.radius_km) };
}

export type AreaResult = { area: NurseArea } | { field: string; message: string };

/** The area typed in the form, checked; an error names its field (`area.postcodes`, `area.lat`, …). */
export function formToArea(f: AreaForm): AreaResult {
  if (f.kind === 'anywhere') return { area: null };
  if (f.kind === 'postcodes') {
    const codes = [...new Set(f.postcodes.split(/[\s,;]+/).filter(Boolean))];
    if (!codes.length) return { field: 'area.postcodes', message: 'Donnez au moins un code postal.' };
    const bad = codes.find((c) => !/^\d{5}$/.test(c));
    if (bad) return { field: 'area.postcodes', message: `« ${bad} » n'est pas un code postal (5 chiffres, séparés par des virgules).` };
    return { area: { postcodes: codes } };
  }
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s.trim().replace(',', '.')));
  const [lat, lon, radius] = [num(f.lat), num(f.lon), num(f.radius_km)];
  if (!(lat >= -90 && lat <= 90)) return { field: 'area.lat', message: 'Latitude du centre : un nombre entre -90 et 90.' };
  if (!(lon >= -180 && lon <= 180)) return { field: 'area.lon', message: 'Longitude du centre : un nombre entre -180 et 180.' };
  if (!(radius > 0)) return { field: 'area.radius_km', message: 'Rayon : un nombre de kilomètres plus grand que 0.' };
  return { area: { lat, lon, radius_km: radius } };
}

/** « Partout », « 38000, 38100 », « 12 km autour de 45.19, 5.72 ». */
export function areaText(a: NurseArea | undefined): string {
  if (!a) return 'Partout';
  if ('postcodes' in a) return a.postcodes.join(', ');
  return `${String(a.radius_km).replace('.', ',')} km autour de ${a.lat}, ${a.lon}`;
}
