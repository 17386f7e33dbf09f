import { afterEach, describe, expect, it, vi } from 'vitest';
import { newIdempotencyKey } from './api';
import { frenchError } from './errors';
import { applyToBookings, offersChanged } from './live';
import {
  areaText,
  areaToForm,
  bookingBadge,
  bookingDetails,
  bookingForVisit,
  bookingLabel,
  formToArea,
  offerAddress,
  offerLabel,
  offerSections,
  parisTimeToIso,
  triedText,
  upsertBooking,
  windowMinutes,
} from './nurse';
import type { NurseBooking, NurseOffer } from './types';

// 11:52 in Paris in winter is 10:52 UTC.
const booking = (over: Partial<NurseBooking> = {}): NurseBooking => ({
  id: 1,
  uuid: 'b5b2f1de-0000-4000-8000-000000000001',
  visit_id: 7,
  doctor_id: 3,
  act: 'urinary_catheter',
  act_label: 'Changement de sonde urinaire (stérile)',
  window_start: '2026-11-23T10:00:00Z',
  window_end: '2026-11-23T11:00:00Z',
  notes: null,
  callback_phone: null,
  status: 'requested',
  delivery: 'waiting',
  network: { id: 1, name: 'SOS Infirmiers Grenoble' },
  networks_tried: [],
  nurse_name: null,
  expected_at: null,
  proposed_at: null,
  attempts: 1,
  next_attempt_at: null,
  last_error: null,
  requested_by: { id: 3, name: 'Dr Claire Martin' },
  on_behalf_of: null,
  created_at: '2026-11-23T10:00:00Z',
  updated_at: '2026-11-23T10:00:00Z',
  ...over,
});

describe("a booking's status, in the contract's words", () => {
  it('says where the request is while it is requested', () => {
    expect(bookingLabel(booking({ delivery: 'sending' })).text).toBe('Envoi en cours…');
    expect(bookingLabel(booking({ delivery: 'sending', last_error: 'connection refused', next_attempt_at: '2026-11-23T10:05:00Z' })).text).toBe(
      'Réseau injoignable — nouvel essai à 11:05',
    );
    expect(bookingLabel(booking({ delivery: 'held' })).text).toBe("En attente d'une infirmière");
    expect(bookingLabel(booking({ delivery: 'waiting' })).text).toBe("En attente d'une infirmière");
    expect(bookingLabel(booking({ delivery: null })).text).toBe('Demandée');
    expect(bookingLabel(booking()).cancel).toBe(true);
  });
  it('names the nurse and her time once accepted', () => {
    const b = booking({ status: 'accepted', delivery: null, nurse_name: 'Hélène Jacquet', expected_at: '2026-11-23T10:52:00Z' });
    expect(bookingLabel(b)).toEqual({ text: 'Acceptée — Hélène Jacquet, arrivée prévue 11:52', tone: 'ok', answer: false, cancel: true });
    expect(bookingLabel({ ...b, expected_at: null }).text).toBe('Acceptée — Hélène Jacquet');
    expect(bookingLabel({ ...b, nurse_name: null }).text).toBe('Acceptée, arrivée prévue 11:52');
  });
  it('asks the doctor about a proposed time', () => {
    const l = bookingLabel(booking({ status: 'proposed', delivery: null, proposed_at: '2026-11-23T13:30:00Z' }));
    expect(l.text).toBe('Autre horaire proposé : 14:30');
    expect(l.answer).toBe(true);
    const answered = bookingLabel(booking({ status: 'proposed', delivery: 'sending', proposed_at: '2026-11-23T13:30:00Z' }));
    expect(answered).toMatchObject({ text: "Autre horaire proposé : 14:30 — réponse en cours d'envoi…", answer: false });
  });
  it('words the ends, with nothing left to do', () => {
    for (const [status, text] of [
      ['declined', 'Refusée par tous les réseaux'],
      ['done', 'Soin réalisé'],
      ['cancelled', 'Annulée'],
    ] as const) {
      const l = bookingLabel(booking({ status, delivery: null }));
      expect(l.text).toBe(text);
      expect(l.cancel || l.answer).toBe(false);
    }
  });
  it('shows a cancellation under way, and no second cancel', () => {
    const l = bookingLabel(booking({ status: 'accepted', delivery: 'cancelling' }));
    expect(l.text).toBe('Annulation en cours…');
    expect(l.cancel).toBe(false);
  });
  it('lists the networks tried, and who asked for whom', () => {
    const b = booking({
      networks_tried: [
        { id: 2, name: 'Infirmiers du Vercors', outcome: 'declined' },
        { id: 3, name: 'Soins Isère', outcome: 'unreachable' },
      ],
      requested_by: { id: 9, name: 'Aurélie Roussel' },
      on_behalf_of: { id: 3, name: 'Dr Claire Martin' },
    });
    expect(triedText(b)).toBe('Réseaux essayés : Infirmiers du Vercors (a refusé), Soins Isère (injoignable)');
    expect(triedText(booking())).toBeNull();
    expect(bookingDetails(b)).toEqual([
      'Réseau : SOS Infirmiers Grenoble',
      'À faire avant 12:00',
      'Réseaux essayés : Infirmiers du Vercors (a refusé), Soins Isère (injoignable)',
      'Demandée à 11:00 par Aurélie Roussel pour Dr Claire Martin',
    ]);
  });
});

describe("the board's badge", () => {
  it('is short', () => {
    expect(bookingBadge(booking({ status: 'accepted', delivery: null, expected_at: '2026-11-23T10:52:00Z' })).text).toBe('🩺 Infirmière : acceptée 11:52');
    expect(bookingBadge(booking()).text).toBe('🩺 Infirmière : en attente');
    expect(bookingBadge(booking({ delivery: 'sending', last_error: 'x', next_attempt_at: '2026-11-23T10:05:00Z' })).text).toBe(
      '🩺 Infirmière : réseau injoignable',
    );
    expect(bookingBadge(booking({ status: 'declined', delivery: null })).tone).toBe('bad');
  });
  it("shows a visit's newest active booking, else its newest", () => {
    const old = booking({ id: 1, status: 'cancelled', created_at: '2026-11-23T09:00:00Z' });
    const active = booking({ id: 2, created_at: '2026-11-23T08:00:00Z' });
    const newer = booking({ id: 3, status: 'done', created_at: '2026-11-23T11:00:00Z' });
    expect(bookingForVisit([old, active, newer], 7)?.id).toBe(2);
    expect(bookingForVisit([old, newer], 7)?.id).toBe(3);
    expect(bookingForVisit([old], 8)).toBeNull();
  });
});

describe('bookings follow the event stream', () => {
  it('adds, updates, and ignores an older snapshot', () => {
    let list: NurseBooking[] = [];
    list = applyToBookings(list, { id: 1, kind: 'nurse_booking.updated', data: booking() });
    expect(list.map((b) => b.id)).toEqual([1]);
    const accepted = booking({ status: 'accepted', updated_at: '2026-11-23T10:10:00Z' });
    list = applyToBookings(list, { id: 2, kind: 'nurse_booking.updated', data: accepted });
    expect(list[0].status).toBe('accepted');
    expect(applyToBookings(list, { id: 3, kind: 'nurse_booking.updated', data: booking({ updated_at: '2026-11-23T10:05:00Z' }) })).toBe(list);
    expect(applyToBookings(list, { id: 4, kind: 'visit.status', data: { id: 1 } })).toBe(list);
  });
  it("keeps only the list's own (one visit's)", () => {
    const other = booking({ id: 5, visit_id: 8 });
    expect(applyToBookings([], { id: 1, kind: 'nurse_booking.updated', data: other }, (b) => b.visit_id === 7)).toEqual([]);
  });
  it('puts the newest first', () => {
    const a = booking({ id: 1, created_at: '2026-11-23T09:00:00Z' });
    const b = booking({ id: 2, created_at: '2026-11-23T10:00:00Z' });
    expect(upsertBooking([a], b).map((x) => x.id)).toEqual([2, 1]);
  });
  it('asks for the offers again on their event (no patient data in it) and after a reconnection', () => {
    expect(offersChanged({ id: 1, kind: 'nurse_offer.updated', data: { id: 4, status: 'taken' } })).toBe(true);
    expect(offersChanged({ id: 0, kind: 'link.reopened', data: null })).toBe(true);
    expect(offersChanged({ id: 2, kind: 'nurse_booking.updated', data: booking() })).toBe(false);
  });
});

describe('the window asked for', () => {
  it('is an hour, two, or the rest of the nurses’ day in Paris (until 20:00, at least three hours)', () => {
    const morning = new Date('2026-11-23T08:30:00Z'); // 09:30 in Paris
    expect(windowMinutes('hour', morning)).toBe(60);
    expect(windowMinutes('two_hours', morning)).toBe(120);
    expect(windowMinutes('day', morning)).toBe(10 * 60 + 30);
    expect(windowMinutes('day', new Date('2026-07-01T08:30:00Z'))).toBe(9 * 60 + 30); // 10:30 in Paris, summer time
    expect(windowMinutes('day', new Date('2026-11-23T17:00:00Z'))).toBe(180); // 18:00 in Paris
    expect(windowMinutes('day', new Date('2026-11-23T21:00:00Z'))).toBe(180); // 22:00 in Paris
  });
});

describe('a time typed on the phone, in Paris', () => {
  it('is today, in winter and in summer', () => {
    expect(parisTimeToIso('14:30', new Date('2026-11-23T10:00:00Z'))).toBe('2026-11-23T13:30:00.000Z');
    expect(parisTimeToIso('14:30', new Date('2026-07-01T10:00:00Z'))).toBe('2026-07-01T12:30:00.000Z');
  });
  it('is tomorrow when that time of today is well gone', () => {
    expect(parisTimeToIso('07:30', new Date('2026-11-23T22:00:00Z'))).toBe('2026-11-24T06:30:00.000Z');
    // A few minutes ago is still today (she is late, not early by a day).
    expect(parisTimeToIso('10:50', new Date('2026-11-23T10:00:00Z'))).toBe('2026-11-23T09:50:00.000Z');
  });
  it('refuses what is not a time', () => {
    expect(parisTimeToIso('25:00')).toBeNull();
    expect(parisTimeToIso('midi')).toBeNull();
    expect(parisTimeToIso('9h15', new Date('2026-11-23T06:00:00Z'))).toBe('2026-11-23T08:15:00.000Z');
  });
});

const offer = (over: Partial<NurseOffer> = {}): NurseOffer => ({
  id: 4,
  act: 'urinary_catheter',
  act_label: 'Changement de sonde urinaire (stérile)',
  window_start: '2026-11-23T10:00:00Z',
  window_end: '2026-11-23T11:00:00Z',
  city: 'Grenoble',
  postcode: '38000',
  lat: null,
  lon: null,
  distance_km: null,
  client_name: 'SOS Médecins Grenoble',
  status: 'offered',
  mine: false,
  expected_at: null,
  proposed_at: null,
  created_at: '2026-11-23T10:00:00Z',
  patient: null,
  prescriber: null,
  notes: null,
  ...over,
});

describe("the partner nurse's offers", () => {
  it('can be taken while offered; shows faded once another nurse took it', () => {
    expect(offerLabel(offer())).toEqual({ text: 'À faire avant 12:00', tone: 'wait', open: true, greyed: false });
    expect(offerLabel(offer({ status: 'taken' }))).toMatchObject({ text: 'Prise par une autre infirmière', greyed: true, open: false });
    expect(offerLabel(offer({ status: 'accepted', mine: false })).text).toBe('Prise par une autre infirmière');
  });
  it('says her own time', () => {
    expect(offerLabel(offer({ status: 'accepted', mine: true, expected_at: '2026-11-23T10:30:00Z' })).text).toBe('Acceptée — arrivée prévue 11:30');
    expect(offerLabel(offer({ status: 'proposed', mine: true, proposed_at: '2026-11-23T13:00:00Z' })).text).toBe(
      'Horaire proposé : 14:00 — en attente de la réponse du médecin',
    );
  });
  it('sorts them: to take (soonest first), hers, the rest (newest first)', () => {
    const late = offer({ id: 1, window_end: '2026-11-23T15:00:00Z' });
    const soon = offer({ id: 2, window_end: '2026-11-23T11:00:00Z' });
    const hers = offer({ id: 3, status: 'accepted', mine: true, expected_at: '2026-11-23T10:30:00Z' });
    const taken = offer({ id: 5, status: 'taken', created_at: '2026-11-23T09:00:00Z' });
    const done = offer({ id: 6, status: 'done', mine: true, created_at: '2026-11-23T09:30:00Z' });
    const s = offerSections([late, taken, hers, soon, done]);
    expect(s.todo.map((o) => o.id)).toEqual([2, 1]);
    expect(s.mine.map((o) => o.id)).toEqual([3]);
    expect(s.past.map((o) => o.id)).toEqual([6, 5]);
  });
  it("gives the patient's address a geo: link, as text or as an object", () => {
    expect(offerAddress('3 rue de Strasbourg, 38000 Grenoble')).toEqual({
      text: '3 rue de Strasbourg, 38000 Grenoble',
      geo: 'geo:0,0?q=3%20rue%20de%20Strasbourg%2C%2038000%20Grenoble',
    });
    expect(offerAddress({ line: '3 rue de Strasbourg', postcode: '38000', city: 'Grenoble', lat: 45.1876, lon: 5.731 })?.geo).toMatch(/^geo:45.1876,5.731\?/);
    expect(offerAddress(null)).toBeNull();
  });
});

describe('the area of a network or a nurse', () => {
  it('round-trips through the form', () => {
    for (const a of [null, { postcodes: ['38000', '38100'] }, { lat: 45.19, lon: 5.72, radius_km: 12 }]) {
      expect(formToArea(areaToForm(a))).toEqual({ area: a });
    }
  });
  it('reads postcodes however they are separated, once each', () => {
    expect(formToArea({ ...areaToForm(null), kind: 'postcodes', postcodes: '38000, 38100;38000 38400' })).toEqual({
      area: { postcodes: ['38000', '38100', '38400'] },
    });
  });
  it('names the field at fault', () => {
    expect(formToArea({ ...areaToForm(null), kind: 'postcodes', postcodes: '38000, 3810' })).toMatchObject({ field: 'area.postcodes' });
    expect(formToArea({ ...areaToForm(null), kind: 'postcodes', postcodes: ' ' })).toMatchObject({ field: 'area.postcodes' });
    expect(formToArea({ kind: 'circle', postcodes: '', lat: '45,19', lon: '5,72', radius_km: '0' })).toMatchObject({ field: 'area.radius_km' });
    expect(formToArea({ kind: 'circle', postcodes: '', lat: '', lon: '5.72', radius_km: '3' })).toMatchObject({ field: 'area.lat' });
    expect(formToArea({ kind: 'circle', postcodes: '', lat: '45,19', lon: '5,72', radius_km: '2,5' })).toEqual({ area: { lat: 45.19, lon: 5.72, radius_km: 2.5 } });
  });
  it('is told in a few words', () => {
    expect(areaText(null)).toBe('Partout');
    expect(areaText({ postcodes: ['38000', '38100'] })).toBe('38000, 38100');
    expect(areaText({ lat: 45.19, lon: 5.72, radius_km: 2.5 })).toBe('2,5 km autour de 45.19, 5.72');
  });
});

describe('the hub’s nurse errors, in French', () => {
  it('words the new codes', () => {
    expect(frenchError(422, { code: 'no_network', field: 'act' })).toMatch(/^Aucun réseau infirmier partenaire/);
    expect(frenchError(409, { code: 'taken' })).toBe('Prise par une autre infirmière.');
    expect(frenchError(422, { code: 'idempotency_key_reused' })).toMatch(/rouvrez-la/);
    expect(frenchError(409, { code: 'hold_expired' })).toMatch(/délai/);
    expect(frenchError(422, { code: 'not_covered' })).toMatch(/pas couvert/);
    expect(frenchError(409, { code: 'booking_changed', field: 'status' })).toMatch(/^La demande d'infirmière a changé/);
    expect(frenchError(422, { code: 'invalid_field', field: 'window_minutes', reason: 'range', limits: { min: 15, max: 1440 } })).toMatch(
      /^Le délai est hors limites \(de 15 à 1\s?440\)\.$/u,
    );
  });
});

describe('the idempotency key', () => {
  afterEach(() => vi.unstubAllGlobals());
  it('is a version 4 UUID, fresh each time, even where randomUUID is missing (plain http)', () => {
    const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newIdempotencyKey()).toMatch(shape);
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => real.getRandomValues(a) });
    const [a, b] = [newIdempotencyKey(), newIdempotencyKey()];
    expect(a).toMatch(shape);
    expect(a).not.toBe(b);
  });
});
