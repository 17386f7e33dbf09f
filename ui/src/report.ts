// The visit report (compte rendu) as the form edits it, and as the hub stores it: pure mapping
// both ways, three-way merge of concurrent edits, the hub's errors mapped to the form's fields,
// and the letter's status told in French. No DOM here: everything is unit-tested.

import { clock } from './format';

// ---- The hub's shapes ------------------------------------------------------------------------

export interface Vitals {
  systolic_mmhg: number | null;
  diastolic_mmhg: number | null;
  heart_rate_bpm: number | null;
  spo2_pct: number | null;
  temperature_c: number | null;
  respiratory_rate: number | null;
  glycaemia_g_l: number | null;
  pain: number | null;
}

export interface Diagnosis {
  code: string;
  label: string;
}

export type OrientationKind = 'home' | 'hospital' | 'samu_15';

/** The orientation as the report's buttons name it. */
export const ORIENTATION_LABELS: Record<OrientationKind, string> = { home: 'Domicile', hospital: 'Hôpital', samu_15: '15' };

export interface Orientation {
  kind: OrientationKind;
  details?: string | null;
}

export interface Observations {
  motive: string;
  history: string;
  examination: string;
  vitals: Vitals;
  ecg_interpretation: string;
  diagnoses: Diagnosis[];
  treatment: string;
  prescriptions: string[];
  orientation: Orientation | null;
  advice: string;
  follow_up: string;
}

export interface PersonRef {
  id: number;
  name: string;
}

export interface ReportView {
  visit_id: number;
  status: 'empty' | 'draft' | 'validated';
  observations: Observations;
  drafted_by: PersonRef | null;
  updated_by: PersonRef | null;
  updated_at: string | null;
  validated_by: PersonRef | null;
  validated_at: string | null;
  version: number;
}

export interface EcgView {
  id: number;
  visit_id: number;
  format: string;
  file_name: string;
  files: string[];
  leads: string[];
  sampling_hz: number | null;
  duration_s: number | null;
  heart_rate_bpm: number | null;
  acquired_at: string | null;
  device: string | null;
  uploaded_by: PersonRef;
  on_behalf_of: number | null;
  created_at: string;
}

export type LetterStatus = 'held' | 'queued' | 'sending' | 'sent' | 'failed';

export interface LetterView {
  id: number;
  visit_id: number;
  status: LetterStatus;
  recipient_name: string | null;
  recipient_rpps: string | null;
  recipient_mssante: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface TreatingPhysician {
  name: string;
  rpps?: string | null;
  mssante?: string | null;
}

export interface PractitionerHit {
  id: number;
  rpps: string | null;
  civility: string | null;
  family_name: string;
  given_name: string | null;
  profession: string | null;
  specialty: string | null;
  city: string | null;
  postcode: string | null;
  mssante: string | null;
}

// ---- The form --------------------------------------------------------------------------------

export const VITALS: { key: keyof Vitals; label: string; unit: string; integer: boolean }[] = [
  { key: 'systolic_mmhg', label: 'TA systolique', unit: 'mmHg', integer: true },
  { key: 'diastolic_mmhg', label: 'TA diastolique', unit: 'mmHg', integer: true },
  { key: 'heart_rate_bpm', label: 'FC', unit: 'bpm', integer: true },
  { key: 'spo2_pct', label: 'SpO₂', unit: '%', integer: true },
  { key: 'temperature_c', label: 'Température', unit: '°C', integer: false },
  { key: 'respiratory_rate', label: 'FR', unit: '/min', integer: true },
  { key: 'glycaemia_g_l', label: 'Glycémie', unit: 'g/L', integer: false },
  { key: 'pain', label: 'Douleur (EVA)', unit: '/10', integer: true },
];

/** What the inputs hold: numbers as typed ("37,8"), the prescription as one line per drug. */
export interface ReportForm {
  motive: string;
  history: string;
  examination: string;
  vitals: Record<keyof Vitals, string>;
  ecg_interpretation: string;
  diagnoses: Diagnosis[];
  treatment: string;
  prescriptions: string;
  orientation: OrientationKind | null;
  orientation_details: string;
  advice: string;
  follow_up: string;
}

export function emptyObservations(): Observations {
  return {
    motive: '',
    history: '',
    examination: '',
    vitals: {
      systolic_mmhg: null,
      diastolic_mmhg: null,
      heart_rate_bpm: null,
      spo2_pct: null,
      temperature_c: null,
      respiratory_rate: null,
      glycaemia_g_l: null,
      pain: null,
    },
    ecg_interpretation: '',
    diagnoses: [],
    treatment: '',
    prescriptions: [],
    orientation: null,
    advice: '',
    follow_up: '',
  };
}

/** Fills the gaps of what the hub sent (older reports, missing keys) with the defaults. */
export function normalise(o: Partial<Observations> | null | undefined): Observations {
  const e = emptyObservations();
  if (!o) return e;
  return { ...e, ...o, vitals: { ...e.vitals, ...(o.vitals ?? {}) }, diagnoses: o.diagnoses ?? [], prescriptions: o.prescriptions ?? [] };
}

/** A stored number as the French write it: 36.8 → "36,8"; null → "". */
export function showNumber(n: number | null): string {
  if (n == null) return '';
  return String(Math.round(n * 100) / 100).replace('.', ',');
}

export function toForm(obs: Observations): ReportForm {
  const o = normalise(obs);
  const vitals = {} as Record<keyof Vitals, string>;
  for (const v of VITALS) vitals[v.key] = showNumber(o.vitals[v.key]);
  return {
    motive: o.motive,
    history: o.history,
    examination: o.examination,
    vitals,
    ecg_interpretation: o.ecg_interpretation,
    diagnoses: o.diagnoses,
    treatment: o.treatment,
    prescriptions: o.prescriptions.join('\n'),
    orientation: o.orientation?.kind ?? null,
    orientation_details: o.orientation?.details ?? '',
    advice: o.advice,
    follow_up: o.follow_up,
  };
}

/** A typed number: "37,8", "37.8", " 98 " → number; "" → null; anything else → an error. */
export function parseNumber(raw: string, integer: boolean): { value: number | null; error: string | null } {
  const s = raw.trim().replace(/\s+/g, '').replace(',', '.');
  if (s === '') return { value: null, error: null };
  if (!/^\d+(\.\d+)?$/.test(s)) return { value: null, error: 'Nombre attendu' };
  const n = Number(s);
  if (integer && !Number.isInteger(n)) return { value: null, error: 'Nombre entier attendu' };
  return { value: n, error: null };
}

/**
 * The observations to save, and the fields the form cannot send as typed (sent empty meanwhile,
 * shown in error next to the input).
 */
export function toObservations(f: ReportForm): { observations: Observations; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const vitals = emptyObservations().vitals;
  for (const v of VITALS) {
    const p = parseNumber(f.vitals[v.key] ?? '', v.integer);
    vitals[v.key] = p.value;
    if (p.error) errors[`vitals.${v.key}`] = p.error;
  }
  const details = f.orientation_details.trim();
  return {
    observations: {
      motive: f.motive,
      history: f.history,
      examination: f.examination,
      vitals,
      ecg_interpretation: f.ecg_interpretation,
      diagnoses: f.diagnoses,
      treatment: f.treatment,
      prescriptions: f.prescriptions
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
      orientation: f.orientation ? { kind: f.orientation, details: details || null } : null,
      advice: f.advice,
      follow_up: f.follow_up,
    },
    errors,
  };
}

/** Same content? (Key order and absent details do not count.) */
export function sameObservations(a: Observations, b: Observations): boolean {
  return canonical(a) === canonical(b);
}

function canonical(o: Observations): string {
  const n = normalise(o);
  const orientation = n.orientation ? { kind: n.orientation.kind, details: n.orientation.details || null } : null;
  return JSON.stringify([
    n.motive,
    n.history,
    n.examination,
    VITALS.map((v) => n.vitals[v.key]),
    n.ecg_interpretation,
    n.diagnoses.map((d) => [d.code, d.label]),
    n.treatment,
    n.prescriptions,
    orientation,
    n.advice,
    n.follow_up,
  ]);
}

// ---- Concurrent edits --------------------------------------------------------------------------

type Part = keyof Observations;
const TEXT_PARTS: Part[] = ['motive', 'history', 'examination', 'ecg_interpretation', 'treatment', 'advice', 'follow_up'];
const PARTS: Part[] = [...TEXT_PARTS, 'diagnoses', 'prescriptions', 'orientation'];

export const PART_LABELS: Record<string, string> = {
  motive: 'Motif',
  history: 'Antécédents',
  examination: 'Examen',
  ecg_interpretation: 'Interprétation ECG',
  diagnoses: 'Diagnostic',
  treatment: 'Traitement',
  prescriptions: 'Ordonnance',
  orientation: 'Orientation',
  advice: 'Conseils',
  follow_up: 'Suivi',
  ...Object.fromEntries(VITALS.map((v) => [`vitals.${v.key}`, v.label])),
};

const eq = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Three-way merge, field by field: `base` is what both started from, `mine` what this screen
 * has, `theirs` what the hub has now. A field changed on one side only takes that side; changed
 * on both (differently), theirs wins and the field is named in `conflicts` (this screen's text
 * was not saved: the person is told which).
 */
export function mergeObservations(base: Observations, mine: Observations, theirs: Observations): { merged: Observations; conflicts: string[] } {
  const [b, m, t] = [normalise(base), normalise(mine), normalise(theirs)];
  const merged = normalise(t);
  const conflicts: string[] = [];
  const pick = <T,>(key: string, bv: T, mv: T, tv: T): T => {
    if (eq(mv, bv)) return tv;
    if (eq(tv, bv) || eq(tv, mv)) return mv;
    conflicts.push(key);
    return tv;
  };
  for (const p of PARTS) (merged as any)[p] = pick(p, b[p], m[p], t[p]);
  for (const v of VITALS) merged.vitals[v.key] = pick(`vitals.${v.key}`, b.vitals[v.key], m.vitals[v.key], t.vitals[v.key]);
  return { merged, conflicts };
}

// ---- The hub's errors, on the form ---------------------------------------------------------------

/** The form's field a hub error is about: "observations.vitals.spo2_pct" → "vitals.spo2_pct". */
export function formField(field: string | null): string | null {
  if (!field) return null;
  let f = field.replace(/^observations\./, '');
  f = f.replace(/\[\d+\].*$/, ''); // diagnoses[0].code → diagnoses
  if (f.startsWith('orientation')) return 'orientation';
  if (f.startsWith('treating_physician') || f === 'mssante' || f === 'name' || f === 'rpps') return 'physician';
  if (f === 'observations') return null;
  return f;
}

function vitalLabel(key: string): string | undefined {
  return VITALS.find((v) => `vitals.${v.key}` === key)?.label;
}

/**
 * What the person reads for a report error (hub's English `detail`, French `fallback`): next to
 * the field when `field` is set.
 */
export function reportErrorMessage(field: string | null, detail: string, fallback: string): string {
  const f = formField(field);
  const range = detail.match(/out of range \(([\d.]+) to ([\d.]+)\)/);
  if (f && range) {
    const [min, max] = [range[1], range[2]].map((x) => x.replace('.', ','));
    return `${vitalLabel(f) ?? PART_LABELS[f] ?? 'Valeur'} hors limites (${min} à ${max}).`;
  }
  if (/diastolic pressure must be below/.test(detail)) return 'La diastolique doit être inférieure à la systolique.';
  if (/not an ICD-10 code/.test(detail)) return 'Code CIM-10 invalide : choisissez dans la liste.';
  if (/at most \d+ characters/.test(detail)) return `${(f && PART_LABELS[f]) || 'Texte'} : trop long.`;
  if (field === 'observations' && /empty/.test(detail)) return 'Le compte rendu est vide.';
  if (f === 'motive' && /give the motive/.test(detail)) return 'Le motif est à remplir avant de valider.';
  if (f === 'examination' && /describe/.test(detail)) return "L'examen est à remplir avant de valider.";
  if (f === 'diagnoses' && /choose at least/.test(detail)) return 'Choisissez au moins un diagnostic avant de valider.';
  if (f === 'orientation' && /say where/.test(detail)) return "Choisissez l'orientation (domicile, hôpital ou 15) avant de valider.";
  if (field === 'patient.birth_date') return "La lettre a besoin de la date de naissance du patient : faites-la ajouter à sa fiche (standard).";
  if (field === 'association.mssante')
    return "Pas de messagerie sécurisée d'envoi : un administrateur doit renseigner l'adresse MSSanté de l'association.";
  if (f === 'physician' && /MSSanté|e-mail|mail address/i.test(detail)) return "L'adresse MSSanté doit être une adresse e-mail (nom@domaine.mssante.fr).";
  if (f === 'physician' && /RPPS|check digit|digits/i.test(detail)) return 'Numéro RPPS invalide.';
  if (field === 'letter') return `La lettre ne peut pas être faite : ${detail}`;
  return fallback;
}

/** An ECG upload refused by the hub, in French; the hub's own words follow for the technician. */
export function ecgErrorMessage(status: number, detail: string, fallback: string): string {
  if (status === 413 || /at most \d+ MiB/.test(detail)) return 'Fichier trop gros (32 Mo au plus).';
  if (/unrecognised file/.test(detail))
    return `Format non reconnu : formats acceptés WFDB (.hea + .dat), HL7 aECG (.xml), SCP-ECG, DICOM, EDF, Contec (.ECG) ou PDF. (${detail})`;
  if (/cannot be read/.test(detail)) return `Fichier ECG illisible (abîmé ou incomplet ?) — ${detail.replace(/^this ECG cannot be read: /, '')}`;
  if (/no WFDB header|one recording at a time/.test(detail)) return "Plusieurs fichiers : un seul enregistrement à la fois (pour WFDB, le .hea avec ses .dat).";
  if (/sent twice/.test(detail)) return 'Le même fichier est envoyé deux fois.';
  if (/at most 8 files/.test(detail)) return '8 fichiers au plus par enregistrement.';
  if (/validated/.test(detail)) return 'Le compte rendu est validé : ses ECG ne changent plus.';
  return fallback;
}

// ---- ECG ---------------------------------------------------------------------------------------

export const ECG_FORMATS: Record<string, string> = {
  wfdb: 'WFDB',
  aecg: 'HL7 aECG',
  scp: 'SCP-ECG',
  dicom: 'DICOM',
  edf: 'EDF',
  contec: 'Contec',
  pdf: 'PDF',
};

/** "SCP-ECG · 12 dérivations · 10 s · FC 71" */
export function ecgSummary(e: EcgView): string {
  const parts = [ECG_FORMATS[e.format] ?? e.format.toUpperCase()];
  if (e.leads.length) parts.push(`${e.leads.length} dérivation${e.leads.length > 1 ? 's' : ''}`);
  if (e.duration_s != null) parts.push(duration(e.duration_s));
  if (e.heart_rate_bpm != null) parts.push(`FC ${Math.round(e.heart_rate_bpm)}`);
  return parts.join(' · ');
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')}`;
}

export const ECG_PAGE_S = 10;

/** Start of each 10-second page of a recording. */
export function ecgPages(durationS: number | null): number[] {
  if (!durationS || durationS <= ECG_PAGE_S) return [0];
  const n = Math.ceil(durationS / ECG_PAGE_S - 1e-9);
  return Array.from({ length: n }, (_, i) => i * ECG_PAGE_S);
}

// ---- Letter ------------------------------------------------------------------------------------

export interface LetterLabel {
  /** Short status, e.g. "Envoyée à 23:42". */
  text: string;
  tone: 'ok' | 'wait' | 'bad';
  /** A retry button is offered. */
  retry: boolean;
  /** A field to give the recipient's MSSanté address is offered. */
  needsAddress: boolean;
  detail: string | null;
}

/** The letter's status as the doctor reads it. */
export function letterLabel(l: LetterView): LetterLabel {
  const to = [l.recipient_name, l.recipient_mssante && `(${l.recipient_mssante})`].filter(Boolean).join(' ') || null;
  switch (l.status) {
    case 'sent':
      return { text: `Envoyée à ${clock(l.sent_at)}`, tone: 'ok', retry: false, needsAddress: false, detail: to && `À ${to}` };
    case 'held':
      return {
        text: "En attente d'une adresse MSSanté",
        tone: 'wait',
        retry: false,
        needsAddress: true,
        detail: l.recipient_name ? `Médecin traitant : ${l.recipient_name}, sans adresse MSSanté connue.` : 'Aucun médecin traitant connu.',
      };
    case 'failed':
      return {
        text: `Échec : ${letterError(l.last_error)}`,
        tone: 'bad',
        retry: true,
        needsAddress: true,
        detail: to && `À ${to}`,
      };
    case 'sending':
      return { text: 'Envoi en cours…', tone: 'wait', retry: false, needsAddress: false, detail: to && `À ${to}` };
    case 'queued':
    default: {
      const again = l.attempts > 0 && l.next_attempt_at ? ` — nouvel essai à ${clock(l.next_attempt_at)}` : '';
      return {
        text: `En file${again}`,
        tone: 'wait',
        retry: l.attempts > 0,
        needsAddress: false,
        detail: l.last_error ? `Dernier essai : ${letterError(l.last_error)}` : to && `À ${to}`,
      };
    }
  }
}

/** The outbox's reasons, in French when known. */
export function letterError(e: string | null): string {
  if (!e) return 'raison inconnue';
  if (/no secure messaging relay/.test(e)) return "le serveur n'a pas de relais de messagerie sécurisée configuré";
  if (/no sender mailbox/.test(e)) return "pas d'adresse MSSanté d'envoi (association)";
  if (/connection refused|timed out|unreachable/i.test(e)) return `relais de messagerie injoignable (${e})`;
  if (/\b5\d\d\b/.test(e)) return `adresse refusée par la messagerie (${e})`;
  return e;
}

/** "Dr Anne Perret" from a directory hit. */
export function practitionerName(p: PractitionerHit): string {
  const civ = p.civility && /^(dr|docteur)/i.test(p.civility) ? 'Dr ' : p.profession && /m[ée]decin/i.test(p.profession) ? 'Dr ' : '';
  return `${civ}${[p.given_name, p.family_name].filter(Boolean).join(' ')}`.trim();
}

/**
 * What the hub will refuse at validation, checked here first to point at the field without a
 * round trip (the hub checks again).
 */
export function missingForValidation(o: Observations): { field: string; message: string } | null {
  if (!o.motive.trim()) return { field: 'motive', message: 'Le motif est à remplir avant de valider.' };
  if (!o.examination.trim()) return { field: 'examination', message: "L'examen est à remplir avant de valider." };
  if (o.diagnoses.length === 0) return { field: 'diagnoses', message: 'Choisissez au moins un diagnostic avant de valider.' };
  if (!o.orientation) return { field: 'orientation', message: "Choisissez l'orientation (domicile, hôpital ou 15) avant de valider." };
  return null;
}
