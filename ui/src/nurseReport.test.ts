import { describe, expect, it } from 'vitest';
import { day } from './format';
import {
  doctorTitle,
  frenchDate,
  orientationText,
  prescriptionLines,
  readyReport,
  reportsToAsk,
  validatedLine,
  validatedReportEvent,
  vitalsList,
  type ReportsKnown,
} from './nurseReport';
import { emptyObservations, type ReportView } from './report';
import type { Visit } from './types';

const visit = (id: number, status: Visit['status']): Visit => ({ id, status }) as Visit;
const report = (visit_id: number, status: ReportView['status'] = 'validated'): ReportView => ({
  visit_id,
  status,
  observations: emptyObservations(),
  drafted_by: null,
  updated_by: null,
  updated_at: null,
  validated_by: { id: 3, name: 'Dr Claire Martin' },
  validated_at: '2026-11-23T13:42:00Z',
  version: 2,
});

describe('which requests have a report to read', () => {
  it('asks only about closed visits not asked yet', () => {
    const known: ReportsKnown = { 3: null, 4: report(4) };
    const vs = [visit(1, 'assigned'), visit(2, 'closed'), visit(3, 'closed'), visit(4, 'closed'), visit(5, 'cancelled'), visit(6, 'closed')];
    expect(reportsToAsk(vs, known)).toEqual([2, 6]);
    expect(reportsToAsk([], known)).toEqual([]);
  });
  it('marks a request once the visit is closed and the report validated', () => {
    const known: ReportsKnown = { 1: report(1), 2: null, 3: report(3), 4: report(4, 'draft') };
    expect(readyReport(visit(1, 'closed'), known)?.visit_id).toBe(1);
    expect(readyReport(visit(2, 'closed'), known)).toBeNull();
    expect(readyReport(visit(3, 'on_site'), known)).toBeNull();
    expect(readyReport(visit(4, 'closed'), known)).toBeNull();
    expect(readyReport(visit(5, 'closed'), known)).toBeNull();
  });
  it('hears the validation on the event stream, not the drafts', () => {
    expect(validatedReportEvent({ id: 1, kind: 'report.updated', data: { visit_id: 12, status: 'validated', version: 3 } })).toBe(12);
    expect(validatedReportEvent({ id: 2, kind: 'report.updated', data: { visit_id: 12, status: 'draft', version: 2 } })).toBeNull();
    expect(validatedReportEvent({ id: 3, kind: 'visit.status', data: { id: 12, status: 'closed' } })).toBeNull();
    expect(validatedReportEvent({ id: 4, kind: 'report.updated', data: null })).toBeNull();
  });
});

describe('the report as the nurse reads it', () => {
  it('says who validated it and when, in Paris time', () => {
    expect(validatedLine(report(1))).toBe('Validé par Dr Claire Martin le 23/11/2026 à 14:42');
    // Summer time, and a day that changes in Paris.
    expect(validatedLine({ validated_by: { id: 3, name: 'Antoine Leroy' }, validated_at: '2026-07-14T22:30:00Z' })).toBe(
      'Validé par Dr Antoine Leroy le 15/07/2026 à 00:30',
    );
    expect(validatedLine({ validated_by: null, validated_at: null })).toBe('Validé par le médecin');
    expect(day('2026-12-31T23:30:00Z')).toBe('01/01/2027');
  });
  it('does not say "Dr" twice', () => {
    expect(doctorTitle('Dr Pauline David')).toBe('Dr Pauline David');
    expect(doctorTitle('docteur Vial')).toBe('docteur Vial');
    expect(doctorTitle('Drouot Anne')).toBe('Dr Drouot Anne');
  });
  it('lists the vital signs taken, with their units', () => {
    const v = { ...emptyObservations().vitals, systolic_mmhg: 145, diastolic_mmhg: 85, heart_rate_bpm: 128, spo2_pct: 96, temperature_c: 36.8, pain: 3 };
    expect(vitalsList(v)).toEqual([
      { label: 'TA', value: '145/85 mmHg' },
      { label: 'FC', value: '128 bpm' },
      { label: 'SpO₂', value: '96 %' },
      { label: 'Température', value: '36,8 °C' },
      { label: 'Douleur (EVA)', value: '3/10' },
    ]);
    expect(vitalsList({ ...emptyObservations().vitals, systolic_mmhg: 90 })).toEqual([{ label: 'TA', value: '90/? mmHg' }]);
    expect(vitalsList(emptyObservations().vitals)).toEqual([]);
    expect(vitalsList(null)).toEqual([]);
  });
  it('tells the orientation', () => {
    expect(orientationText({ kind: 'hospital', details: ' CHU Grenoble Alpes, cardiologie ' })).toBe('Hôpital — CHU Grenoble Alpes, cardiologie');
    expect(orientationText({ kind: 'home', details: null })).toBe("Domicile : reste à l'EHPAD");
    expect(orientationText({ kind: 'samu_15' })).toBe('Transfert par le 15 (SAMU)');
    expect(orientationText(null)).toBeNull();
  });
  it('keeps the prescription lines as written', () => {
    expect(prescriptionLines(['Bisoprolol 2,5 mg : 1 cp le matin', '  ', ' Apixaban 5 mg '])).toEqual(['Bisoprolol 2,5 mg : 1 cp le matin', 'Apixaban 5 mg']);
    expect(prescriptionLines(undefined)).toEqual([]);
  });
  it('writes a birth date the French way', () => {
    expect(frenchDate('1935-04-02')).toBe('02/04/1935');
    expect(frenchDate(null)).toBe('');
    expect(frenchDate('1935')).toBe('');
  });
});
