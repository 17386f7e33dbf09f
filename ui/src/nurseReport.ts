// The visit's report as the nurses of the resident's EHPAD read it: once the visit is closed and
// the doctor has validated the report (the hub answers 404 on a draft). Which requests to ask
// about, the live mark, and the report's parts as text. No DOM here: everything is unit-tested.

import { clock, day } from './format';
import { normalise, ORIENTATION_LABELS, showNumber, VITALS, type Orientation, type ReportView, type Vitals } from './report';
import type { HubEvent, Visit } from './types';

/**
 * What the screen knows of each request's report, by visit id: the validated report, or null
 * when the hub said there is none to read (yet). Absent: not asked.
 */
export type ReportsKnown = Record<number, ReportView | null>;

/** The requests whose report is worth asking for: closed, and not asked yet. */
export function reportsToAsk(visits: Visit[], known: ReportsKnown): number[] {
  return visits.filter((v) => v.status === 'closed' && !(v.id in known)).map((v) => v.id);
}

/** The validated report of a request, once the visit is closed; null otherwise. */
export function readyReport(visit: Visit, known: ReportsKnown): ReportView | null {
  const r = known[visit.id];
  return visit.status === 'closed' && r?.status === 'validated' ? r : null;
}

/** The visit whose report an event says was validated (to fetch and mark), else null. */
export function validatedReportEvent(e: HubEvent): number | null {
  if (e.kind !== 'report.updated' || e.data?.status !== 'validated') return null;
  const id = Number(e.data.visit_id);
  return Number.isInteger(id) && id > 0 ? id : null;
}

/** "Dr Claire Martin" (the hub's name may already say "Dr"). */
export function doctorTitle(name: string | null | undefined): string {
  const n = (name ?? '').trim();
  if (!n) return 'le médecin';
  return /^(dr|docteur)\b/i.test(n) ? n : `Dr ${n}`;
}

/** "Validé par Dr Claire Martin le 23/11/2026 à 14:05" (Paris time). */
export function validatedLine(r: Pick<ReportView, 'validated_by' | 'validated_at'>): string {
  const who = `Validé par ${doctorTitle(r.validated_by?.name)}`;
  return r.validated_at ? `${who} le ${day(r.validated_at)} à ${clock(r.validated_at)}` : who;
}

/** The vital signs taken, each as the nurse reads it: [{label: "TA", value: "145/85 mmHg"}, …]. */
export function vitalsList(v: Partial<Vitals> | null | undefined): { label: string; value: string }[] {
  const vitals = normalise({ vitals: (v ?? {}) as Vitals }).vitals;
  const out: { label: string; value: string }[] = [];
  const [sys, dia] = [vitals.systolic_mmhg, vitals.diastolic_mmhg];
  if (sys != null || dia != null) out.push({ label: 'TA', value: `${sys != null ? showNumber(sys) : '?'}/${dia != null ? showNumber(dia) : '?'} mmHg` });
  for (const d of VITALS) {
    if (d.key === 'systolic_mmhg' || d.key === 'diastolic_mmhg') continue;
    const n = vitals[d.key];
    if (n == null) continue;
    const unit = d.unit.startsWith('/') ? d.unit : ` ${d.unit}`;
    out.push({ label: d.label, value: `${showNumber(n)}${unit}` });
  }
  return out;
}

/** Where the resident goes, for the nurse: "Hôpital — CHU Grenoble Alpes, cardiologie". */
export function orientationText(o: Orientation | null | undefined): string | null {
  if (!o) return null;
  const label = o.kind === 'home' ? `${ORIENTATION_LABELS.home} : reste à l'EHPAD` : o.kind === 'samu_15' ? `Transfert par le ${ORIENTATION_LABELS.samu_15} (SAMU)` : ORIENTATION_LABELS.hospital;
  const details = o.details?.trim();
  return details ? `${label} — ${details}` : label;
}

/** The prescription's lines, blank ones left out. */
export function prescriptionLines(lines: string[] | null | undefined): string[] {
  return (lines ?? []).map((l) => l.trim()).filter((l) => l !== '');
}

/** A calendar date as stored ("1935-04-02") written the French way ("02/04/1935"). */
export function frenchDate(ymd: string | null | undefined): string {
  const m = ymd?.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : '';
}
