import { describe, expect, it } from 'vitest';
import { addDays, age, clock, dateTime, geoLink, mondayOf, navigationLinks, parisParts, parisToUtc, patientName, phoneKey, platformOf, since, suggestionReason, telLink } from './format';

describe('times are shown in Paris time', () => {
  it('converts UTC to Europe/Paris, winter and summer', () => {
    expect(clock('2026-11-23T09:37:00Z')).toBe('10:37');
    expect(clock('2026-07-14T21:05:00Z')).toBe('23:05');
    expect(dateTime('2026-12-31T23:30:00Z')).toBe('01/01/2027 00:30');
  });
  it('writes waits as a dispatcher reads them', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(since('2026-11-23T09:59:15Z', now)).toBe('45 s');
    expect(since('2026-11-23T09:48:00Z', now)).toBe('12 min');
    expect(since('2026-11-23T07:55:00Z', now)).toBe('2 h 05');
    expect(since('2026-11-23T10:00:30Z', now)).toBe('0 s');
  });
});

describe('patients', () => {
  it('counts age in whole years', () => {
    const today = new Date(2026, 10, 23);
    expect(age('1941-03-12', today)).toBe(85);
    expect(age('1941-11-24', today)).toBe(84);
    expect(age(null, today)).toBeNull();
  });
  it('names a patient by used name, then birth name', () => {
    expect(patientName({ birth_name: 'GIRARD', used_name: null, first_names: 'Jeanne' })).toBe('GIRARD Jeanne');
    expect(patientName({ birth_name: 'GIRARD', used_name: 'MARTIN', first_names: 'Jeanne' })).toBe('MARTIN (née GIRARD) Jeanne');
  });
  it("opens navigation in the phone's own app", () => {
    const a = { line: '12 rue Félix Poulat', postcode: '38000', city: 'Grenoble', lat: 45.1887, lon: 5.7245 };
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1';
    const android = 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36';
    expect(platformOf(iphone, 5)).toBe('ios');
    expect(platformOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15', 5)).toBe('ios');
    expect(platformOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15', 0)).toBe('other');
    expect(platformOf(android, 5)).toBe('android');
    const ios = navigationLinks(a, 'ios');
    expect(ios.map((l) => l.label)).toEqual(['Plans', 'Google Maps', 'Waze']);
    expect(ios[0].href).toBe('https://maps.apple.com/?daddr=45.1887,5.7245&q=12%20rue%20F%C3%A9lix%20Poulat%2C%2038000%20Grenoble');
    const droid = navigationLinks(a, 'android');
    expect(droid[0].href).toMatch(/^geo:45\.1887,5\.7245/);
    expect(droid[2].href).toBe('https://waze.com/ul?ll=45.1887%2C5.7245&navigate=yes');
    expect(navigationLinks({ line: '1 rue X', city: 'Meylan' }, 'other')[0].href).toBe(
      'https://www.google.com/maps/dir/?api=1&destination=1%20rue%20X%2C%20Meylan',
    );
  });
  it('dials the caller', () => {
    expect(telLink('06 12 34 56 78')).toBe('tel:0612345678');
    expect(telLink('+33 6.12.34.56.78')).toBe('tel:+33612345678');
  });
  it('opens navigation with a geo: link', () => {
    expect(geoLink({ line: '12 rue Félix Poulat', postcode: '38000', city: 'Grenoble', lat: 45.1887, lon: 5.7245 })).toMatch(/^geo:45\.1887,5\.7245\?q=45\.1887,5\.7245\(12%20rue%20F%C3%A9lix/);
    expect(geoLink({ line: '1 rue X', postcode: null, city: 'Meylan' })).toBe('geo:0,0?q=1%20rue%20X%2C%20Meylan');
  });
});

describe('suggestions', () => {
  it('say in one line why a doctor', () => {
    expect(suggestionReason({ eta_min: 11.6, visits_before: 0 }, [])).toBe('12 min');
    expect(suggestionReason({ eta_min: 41.2, visits_before: 2 }, ['ecg'])).toBe('41 min, après 2 visites, ECG');
  });
});

describe('Paris wall-clock times for the roster', () => {
  it('turns a Paris time into UTC in winter and summer, and back', () => {
    expect(parisToUtc('2026-12-04', '20:00')).toBe('2026-12-04T19:00:00.000Z');
    expect(parisToUtc('2026-07-14', '08:30')).toBe('2026-07-14T06:30:00.000Z');
    expect(parisParts('2026-12-04T23:30:00Z')).toEqual({ date: '2026-12-05', minutes: 30 });
  });
  it('finds the Monday of a week, across a month', () => {
    expect(mondayOf('2026-12-03T12:00:00Z')).toBe('2026-11-30');
    // Sunday 23:30 UTC is already Monday in Paris.
    expect(mondayOf('2026-12-06T23:30:00Z')).toBe('2026-12-07');
    expect(addDays('2026-12-28', 7)).toBe('2027-01-04');
  });
  it('reads phone numbers as the hub does', () => {
    expect(phoneKey('+33 6 12 34 56 78')).toBe(phoneKey('06.12.34.56.78'));
  });
});
