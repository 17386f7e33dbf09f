import { describe, expect, it } from 'vitest';
import { notificationText, unseenVisits } from './alerts';
import { seenWords } from './format';
import { alreadyThere, keepOffline, keepsRead, projected, type PendingStep } from './offline';
import type { Visit } from './types';

const visit = (id: number, over: Partial<Visit> = {}): Visit =>
  ({
    id,
    status: 'assigned',
    urgency: 2,
    motive: 'fièvre',
    address: { line: '3 rue de Strasbourg', city: 'Grenoble' },
    patient: { birth_name: 'LEFORT', first_names: 'Agathe' },
    doctor: { id: 7, name: 'Dr Martin' },
    assigned_at: '2026-12-03T01:10:00Z',
    seen_at: null,
    ...over,
  }) as unknown as Visit;

describe('a visit given to the doctor rings until he saw it', () => {
  it('lists his unacknowledged visits, most urgent first', () => {
    const list = [
      visit(1),
      visit(2, { urgency: 1 }),
      visit(3, { seen_at: '2026-12-03T01:11:00Z' }),
      visit(4, { doctor: { id: 8, name: 'Dr Autre' } } as Partial<Visit>),
      visit(5, { status: 'en_route' }),
    ];
    expect(unseenVisits(list, 7).map((v) => v.id)).toEqual([2, 1]);
    expect(unseenVisits(list, undefined)).toEqual([]);
  });
  it('names no patient in the notification (a locked screen shows it)', () => {
    const n = notificationText(visit(1));
    expect(n.title).toBe('Nouvelle visite P2');
    expect(n.body).toBe('fièvre · Grenoble');
    expect(JSON.stringify(n)).not.toMatch(/LEFORT|Agathe/);
  });
});

describe('the board says whether the doctor saw it', () => {
  const now = Date.parse('2026-12-03T01:12:00Z');
  it('vu à, envoyée, non vue after a few minutes', () => {
    expect(seenWords(visit(1, { seen_at: '2026-12-03T01:11:00Z' }), now)).toEqual({ text: 'vu à 02:11', late: false });
    expect(seenWords(visit(1), now)).toEqual({ text: 'envoyée', late: false });
    expect(seenWords(visit(1), now + 4 * 60_000)).toEqual({ text: 'non vue · 6 min', late: true });
    expect(seenWords(visit(1, { status: 'received' }), now)).toBeNull();
    expect(seenWords(visit(1, { status: 'closed' }), now)).toBeNull();
  });
});

describe('steps tapped offline', () => {
  const step = (visitId: number, path: string, refused?: string): PendingStep => ({ key: `${visitId}${path}`, visitId, path, at: '2026-12-03T01:20:00Z', refused });
  it('move the visit on as the doctor sees it, in order, never back', () => {
    expect(projected(visit(1), [step(1, 'en-route')]).status).toBe('en_route');
    expect(projected(visit(1), [step(1, 'en-route'), step(1, 'on-site')]).status).toBe('on_site');
    expect(projected(visit(1, { status: 'on_site' }), [step(1, 'en-route')]).status).toBe('on_site');
    expect(projected(visit(1), [step(2, 'en-route')]).status).toBe('assigned');
    expect(projected(visit(1), [step(1, 'en-route', 'refusé')]).status).toBe('assigned');
  });
  it('one the hub already has is not a refusal', () => {
    expect(alreadyThere(visit(1, { status: 'on_site' }), step(1, 'en-route'))).toBe(true);
    expect(alreadyThere(visit(1, { status: 'assigned' }), step(1, 'on-site'))).toBe(false);
    expect(alreadyThere(undefined, step(1, 'on-site'))).toBe(false);
  });
});

describe('what the phone keeps', () => {
  it("only the round's reads, and only on a seat that keeps them", () => {
    (globalThis as any).indexedDB ??= {};
    keepOffline(true);
    for (const p of ['/me', '/doctors', '/visits?limit=200', '/visits/12', '/visits/12/report', '/visits/12/ecgs', '/patients/3']) expect(keepsRead(p)).toBe(true);
    for (const p of ['/audit', '/users', '/visits?limit=200&q=x', '/patients?q=martin', '/visits/12/letter/pdf']) expect(keepsRead(p)).toBe(false);
    keepOffline(false);
    expect(keepsRead('/me')).toBe(false);
  });
});
