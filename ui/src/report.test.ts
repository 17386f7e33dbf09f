import { describe, expect, it } from 'vitest';
import {
  ecgErrorMessage,
  ecgPages,
  ecgSummary,
  emptyObservations,
  formField,
  letterLabel,
  mergeObservations,
  missingForValidation,
  normalise,
  parseNumber,
  reportErrorMessage,
  sameObservations,
  toForm,
  toObservations,
  type EcgView,
  type LetterView,
  type Observations,
} from './report';
import { groupFiles } from './components/Ecgs';

const full = (): Observations => ({
  ...emptyObservations(),
  motive: 'Palpitations',
  examination: 'Pouls irrégulier',
  vitals: { ...emptyObservations().vitals, systolic_mmhg: 145, diastolic_mmhg: 85, temperature_c: 37.8, glycaemia_g_l: 1.05 },
  diagnoses: [{ code: 'I48.9', label: 'Fibrillation et flutter auriculaires, sans précision' }],
  prescriptions: ['Bisoprolol 2,5 mg : 1 cp le matin', 'Apixaban 5 mg : 1 cp matin et soir'],
  orientation: { kind: 'hospital', details: 'CHU Grenoble, urgences' },
});

describe('the report form and the hub’s JSON', () => {
  it('goes both ways without loss', () => {
    const o = full();
    const f = toForm(o);
    expect(f.vitals.temperature_c).toBe('37,8');
    expect(f.vitals.spo2_pct).toBe('');
    expect(f.prescriptions).toBe('Bisoprolol 2,5 mg : 1 cp le matin\nApixaban 5 mg : 1 cp matin et soir');
    expect(f.orientation).toBe('hospital');
    const back = toObservations(f);
    expect(back.errors).toEqual({});
    expect(back.observations).toEqual(o);
  });
  it('reads numbers as typed on a French phone keyboard', () => {
    expect(parseNumber('37,8', false)).toEqual({ value: 37.8, error: null });
    expect(parseNumber(' 98 ', true)).toEqual({ value: 98, error: null });
    expect(parseNumber('', true)).toEqual({ value: null, error: null });
    expect(parseNumber('98,5', true).error).toBe('Nombre entier attendu');
    expect(parseNumber('abc', false).error).toBe('Nombre attendu');
  });
  it('sends a field typed wrong as empty and says so, without blocking the rest', () => {
    const f = toForm(full());
    f.vitals.spo2_pct = '9x';
    f.motive = 'Malaise';
    const { observations, errors } = toObservations(f);
    expect(observations.vitals.spo2_pct).toBeNull();
    expect(observations.motive).toBe('Malaise');
    expect(errors).toEqual({ 'vitals.spo2_pct': 'Nombre attendu' });
  });
  it('drops blank prescription lines and an empty orientation detail', () => {
    const f = toForm(emptyObservations());
    f.prescriptions = 'Paracétamol 1 g\n\n  \nIbuprofène 400 mg\n';
    f.orientation = 'home';
    f.orientation_details = '  ';
    const o = toObservations(f).observations;
    expect(o.prescriptions).toEqual(['Paracétamol 1 g', 'Ibuprofène 400 mg']);
    expect(o.orientation).toEqual({ kind: 'home', details: null });
  });
  it('fills what an older report lacks', () => {
    const o = normalise({ motive: 'x', vitals: { pain: 3 } } as never);
    expect(o.vitals.pain).toBe(3);
    expect(o.vitals.spo2_pct).toBeNull();
    expect(o.diagnoses).toEqual([]);
    expect(sameObservations(o, { ...emptyObservations(), motive: 'x', vitals: { ...emptyObservations().vitals, pain: 3 } })).toBe(true);
  });
});

describe('edits made at the same time by the doctor and the assistant', () => {
  it('keeps both sides when they touched different fields', () => {
    const base = full();
    const mine = { ...full(), examination: 'Pouls irrégulier, 128/min' };
    const theirs = { ...full(), history: 'HTA', vitals: { ...full().vitals, spo2_pct: 96 } };
    const { merged, conflicts } = mergeObservations(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(merged.examination).toBe('Pouls irrégulier, 128/min');
    expect(merged.history).toBe('HTA');
    expect(merged.vitals.spo2_pct).toBe(96);
  });
  it('keeps theirs and names the field when both changed it', () => {
    const { merged, conflicts } = mergeObservations(full(), { ...full(), motive: 'A' }, { ...full(), motive: 'B' });
    expect(merged.motive).toBe('B');
    expect(conflicts).toEqual(['motive']);
  });
  it('sees no conflict when both typed the same', () => {
    const { conflicts } = mergeObservations(full(), { ...full(), treatment: 'Aspirine' }, { ...full(), treatment: 'Aspirine' });
    expect(conflicts).toEqual([]);
  });
});

describe('the hub’s errors land next to their field, in French', () => {
  it('maps the hub’s field paths to the form’s', () => {
    expect(formField('observations.vitals.spo2_pct')).toBe('vitals.spo2_pct');
    expect(formField('observations.diagnoses[0].code')).toBe('diagnoses');
    expect(formField('observations.prescriptions[3]')).toBe('prescriptions');
    expect(formField('observations.orientation.details')).toBe('orientation');
    expect(formField('treating_physician.mssante')).toBe('physician');
    expect(formField('observations')).toBeNull();
    expect(formField(null)).toBeNull();
  });
  it('words the messages', () => {
    expect(reportErrorMessage('observations.vitals.spo2_pct', '120 is out of range (30 to 100)', '')).toBe('SpO₂ hors limites (30 à 100).');
    expect(reportErrorMessage('observations.vitals.glycaemia_g_l', '12 is out of range (0.1 to 10)', '')).toBe('Glycémie hors limites (0,1 à 10).');
    expect(reportErrorMessage('observations.examination', 'describe the examination', '')).toMatch(/examen/i);
    expect(reportErrorMessage('association.mssante', 'no secure messaging mailbox…', '')).toMatch(/administrateur/);
    expect(reportErrorMessage('patient.birth_date', 'the letter needs the patient’s birth date', '')).toMatch(/date de naissance/);
    expect(reportErrorMessage('observations.motive', 'something new', 'repli')).toBe('repli');
  });
  it('points at what is missing before validation, without asking the hub', () => {
    expect(missingForValidation(full())).toBeNull();
    expect(missingForValidation({ ...full(), examination: ' ' })?.field).toBe('examination');
    expect(missingForValidation({ ...full(), diagnoses: [] })?.field).toBe('diagnoses');
    expect(missingForValidation({ ...full(), orientation: null })?.field).toBe('orientation');
  });
  it('explains a refused ECG and keeps the hub’s words', () => {
    const m = ecgErrorMessage(422, 'this ECG cannot be read: scp: file ends inside section 0 header', 'x');
    expect(m).toMatch(/^Fichier ECG illisible/);
    expect(m).toContain('scp: file ends inside section 0 header');
    expect(ecgErrorMessage(422, 'this ECG cannot be read: unrecognised file a.txt: not WFDB…', 'x')).toMatch(/^Format non reconnu/);
    expect(ecgErrorMessage(413, 'an ECG upload is at most 32 MiB', 'x')).toMatch(/trop gros/);
  });
});

describe('ECGs', () => {
  const ecg: EcgView = {
    id: 1,
    visit_id: 10,
    format: 'scp',
    file_name: 'Example.scp',
    files: ['Example.scp'],
    leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
    sampling_hz: 500,
    duration_s: 10,
    heart_rate_bpm: 71.26,
    acquired_at: null,
    device: null,
    uploaded_by: { id: 4, name: 'Aurélie Roussel' },
    on_behalf_of: 8,
    created_at: '2026-11-23T22:10:00Z',
  };
  it('sums a recording up in one line', () => {
    expect(ecgSummary(ecg)).toBe('SCP-ECG · 12 dérivations · 10 s · FC 71');
    expect(ecgSummary({ ...ecg, format: 'pdf', leads: [], duration_s: null, heart_rate_bpm: null })).toBe('PDF');
    expect(ecgSummary({ ...ecg, duration_s: 1805 })).toContain('30 min 05');
  });
  it('pages long recordings by 10 seconds', () => {
    expect(ecgPages(10)).toEqual([0]);
    expect(ecgPages(null)).toEqual([0]);
    expect(ecgPages(25)).toEqual([0, 10, 20]);
    expect(ecgPages(30)).toEqual([0, 10, 20]);
  });
  it('sends a WFDB record’s files together and other files one by one', () => {
    const f = (name: string) => new File(['x'], name);
    const names = (g: File[][]) => g.map((x) => x.map((y) => y.name));
    expect(names(groupFiles([f('100.hea'), f('100.dat'), f('100.atr')]))).toEqual([['100.hea', '100.dat', '100.atr']]);
    expect(names(groupFiles([f('a.scp'), f('b.xml')]))).toEqual([['a.scp'], ['b.xml']]);
    expect(names(groupFiles([f('s0010_re.hea'), f('s0010_re.dat'), f('x.scp')]))).toEqual([['s0010_re.hea', 's0010_re.dat'], ['x.scp']]);
  });
});

describe('the letter’s status', () => {
  const base: LetterView = {
    id: 1,
    visit_id: 10,
    status: 'queued',
    recipient_name: 'Dr Anne Perret',
    recipient_rpps: null,
    recipient_mssante: 'anne.perret@medecin.mssante.fr',
    attempts: 0,
    next_attempt_at: null,
    last_error: null,
    created_at: '2026-11-23T22:40:00Z',
    sent_at: null,
  };
  it('is told in French, times in Paris', () => {
    expect(letterLabel(base).text).toBe('En file');
    const sent = letterLabel({ ...base, status: 'sent', sent_at: '2026-11-23T22:42:00Z' });
    expect(sent.text).toBe('Envoyée à 23:42');
    expect(sent.detail).toBe('À Dr Anne Perret (anne.perret@medecin.mssante.fr)');
    expect(letterLabel({ ...base, status: 'sending' }).text).toBe('Envoi en cours…');
  });
  it('offers a retry after a failure, with the reason', () => {
    const l = letterLabel({ ...base, status: 'failed', last_error: '550 5.1.1 mailbox unknown' });
    expect(l.text).toMatch(/^Échec : adresse refusée/);
    expect(l.retry).toBe(true);
    expect(l.tone).toBe('bad');
  });
  it('asks for an address when held', () => {
    const l = letterLabel({ ...base, status: 'held', recipient_mssante: null });
    expect(l.text).toBe("En attente d'une adresse MSSanté");
    expect(l.needsAddress).toBe(true);
  });
  it('says when a queued letter will be tried again, and why it was not sent', () => {
    const l = letterLabel({
      ...base,
      attempts: 1,
      next_attempt_at: '2026-11-23T22:43:30Z',
      last_error: 'no secure messaging relay is configured on this hub (CHEVET_SMTP_URL)',
    });
    expect(l.text).toBe('En file — nouvel essai à 23:43');
    expect(l.detail).toMatch(/relais de messagerie/);
  });
});
