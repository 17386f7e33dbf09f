// The visit report (compte rendu) at the bedside, on a phone: every field optional while
// drafting, saved by itself a moment after typing stops, the ECGs, the diagnosis picked from
// ICD-10, the orientation in one tap; the doctor validates and the letter leaves for the
// treating physician, its status shown live. An assistant drafts the same report from her desk
// for the doctor who delegated to her; only he validates. Either of them books a partner nurse
// from here (« Demander une infirmière ») and follows the booking live.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, getBlob, patch, post, put, sendOnLeave } from '../api';
import { DiagnosisPicker } from '../components/DiagnosisPicker';
import { EcgSection } from '../components/Ecgs';
import { LetterBox } from '../components/LetterBox';
import { VisitNurse } from '../components/NurseBookingDialog';
import { PhysicianBox } from '../components/Physician';
import { age, clock, dateTime, patientName, VISIT_STATUS } from '../format';
import { useHubEvent, useLiveBookings } from '../live';
import {
  emptyObservations,
  formField,
  mergeObservations,
  missingForValidation,
  normalise,
  ORIENTATION_LABELS,
  PART_LABELS,
  reportErrorMessage,
  sameObservations,
  toForm,
  toObservations,
  VITALS,
  type EcgView,
  type LetterView,
  type Observations,
  type OrientationKind,
  type ReportForm,
  type ReportView,
  type TreatingPhysician,
  type Vitals,
} from '../report';
import type { Me, Patient, Visit } from '../types';
import { draftOf, dropDraft, keepRead, saveDraft } from '../offline';

/** How long after the last keystroke the draft is saved. */
const AUTOSAVE_MS = 1200;

type SaveState = { state: 'idle' | 'saving' | 'saved' | 'error' | 'offline'; at?: string | null; message?: string };

/** How often a draft kept on the phone tries again while the hub cannot be reached. */
const OFFLINE_RETRY_MS = 15_000;

interface FieldError {
  field: string | null;
  message: string;
  /** An error of the autosave goes away with the next successful save; others when their field changes. */
  fromSave?: boolean;
}

export function ReportScreen(props: { me: Me; visit: Visit; doctorPhone?: string | null; onBack: () => void; onVisit?: (v: Visit) => void }) {
  const visit = props.visit;
  const id = visit.id;
  const isDoctor = props.me.role === 'doctor';
  const nurse = useLiveBookings(`/visits/${id}/nurse-bookings`, (b) => b.visit_id === id);

  const [report, setReport] = useState<ReportView | null>(null);
  const [form, setFormState] = useState<ReportForm | null>(null);
  const [save, setSave] = useState<SaveState>({ state: 'idle' });
  const [error, setError] = useState<FieldError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [ecgs, setEcgs] = useState<EcgView[]>([]);
  const [patient, setPatient] = useState<Patient | null>(null);
  const [letter, setLetter] = useState<LetterView | null>(null);
  const [busy, setBusy] = useState<null | 'validate' | 'preview' | 'close'>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [closing, setClosing] = useState(false);

  // What the hub has (or, for a new report, the defaults shown), its version, the form now.
  const base = useRef<Observations>(emptyObservations());
  const version = useRef(0);
  const formRef = useRef<ReportForm | null>(null);
  const saving = useRef<Promise<boolean> | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const readOnly = report?.status === 'validated';
  const readOnlyRef = useRef(false);
  readOnlyRef.current = !!readOnly;

  function showForm(f: ReportForm) {
    formRef.current = f;
    setFormState(f);
  }

  /** Takes the hub's report in, keeping what this screen typed meanwhile (three-way merge). */
  function absorb(server: ReportView, why: 'load' | 'conflict' | 'event') {
    const theirs = normalise(server.observations);
    setReport(server);
    version.current = server.version;
    if (server.status === 'empty') {
      // Sensible default: the motive given on the phone.
      base.current = { ...emptyObservations(), motive: visit.motive };
      if (!formRef.current) showForm(toForm(base.current));
      return;
    }
    const mine = formRef.current ? toObservations(formRef.current).observations : theirs;
    const { merged, conflicts } =
      server.status === 'validated' || why === 'load' ? { merged: theirs, conflicts: [] } : mergeObservations(base.current, mine, theirs);
    base.current = theirs;
    if (!formRef.current || !sameObservations(merged, mine)) showForm(toForm(merged));
    const who = server.updated_by?.name ?? "quelqu'un";
    if (conflicts.length) {
      setNotice(
        `${who} a modifié en même temps : ${conflicts.map((c) => PART_LABELS[c] ?? c).join(', ')}. Sa version est gardée pour ${
          conflicts.length > 1 ? 'ces rubriques' : 'cette rubrique'
        } : relisez-la.`,
      );
    } else if (why === 'conflict' && server.updated_by?.id !== props.me.id) {
      setNotice(`${who} a modifié le compte rendu entre-temps : ses modifications et les vôtres sont réunies.`);
    }
    if (server.status !== 'validated' && !sameObservations(merged, theirs)) schedule();
  }

  async function loadReport(why: 'load' | 'conflict' | 'event') {
    absorb(await get<ReportView>(`/visits/${id}/report`), why);
  }
  // Without network and with no copy on the phone, the report still opens: the ECGs and the
  // letter come with the network.
  const offline = (e: unknown) => e instanceof ApiError && e.status === 0;
  const loadEcgs = () =>
    get<EcgView[]>(`/visits/${id}/ecgs`)
      .then(setEcgs)
      .catch((e) => {
        if (!offline(e)) throw e;
      });
  const loadLetter = () =>
    get<LetterView>(`/visits/${id}/letter`)
      .then(setLetter)
      .catch((e) => {
        if (!(e instanceof ApiError && (e.status === 404 || e.status === 0))) throw e;
      });

  useEffect(() => {
    Promise.all([
      loadReport('load'),
      loadEcgs(),
      loadLetter(),
      get<Patient>(`/patients/${visit.patient.id}`)
        .then(setPatient)
        .catch(() => {}),
    ])
      .then(restoreDraft)
      .catch((e) => setLoadError(e.message));
    const online = () => flush();
    window.addEventListener('online', online);
    const hide = () => document.visibilityState === 'hidden' && flush();
    // The page going away (tab closed, reload): what was typed leaves with a request that
    // outlives the page.
    const leave = () => {
      if (readOnlyRef.current || !formRef.current || saving.current) return;
      const { observations } = toObservations(formRef.current);
      if (sameObservations(observations, base.current)) return;
      sendOnLeave('PUT', `/visits/${id}/report`, { observations, version: version.current });
    };
    document.addEventListener('visibilitychange', hide);
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('online', online);
      document.removeEventListener('visibilitychange', hide);
      window.removeEventListener('pagehide', leave);
      clearTimeout(timer.current);
      flush();
    };
  }, [id]);

  useHubEvent(async (e) => {
    if (e.kind === 'link.reopened') {
      loadReport('event').catch(() => {});
      loadEcgs().catch(() => {});
      loadLetter().catch(() => {});
      return;
    }
    if (e.data?.visit_id !== id) return;
    if (e.kind === 'report.updated') {
      if (saving.current) await saving.current;
      if (e.data.version > version.current) loadReport('event').catch(() => {});
      if (e.data.status === 'validated') loadLetter().catch(() => {});
    } else if (e.kind === 'ecg.added') {
      loadEcgs().catch(() => {});
    } else if (e.kind === 'letter.updated') {
      loadLetter().catch(() => {});
    }
  });

  /**
   * What was typed on this phone and never reached the hub (no network, the tab killed): taken
   * back into the form, merged with what the hub has if it changed meanwhile, and sent.
   */
  async function restoreDraft() {
    const d = await draftOf(id);
    if (!d) return;
    if (readOnlyRef.current) return dropDraft(id);
    const theirs = base.current;
    if (sameObservations(d.observations, theirs)) return dropDraft(id);
    const { merged, conflicts } =
      d.version === version.current ? { merged: d.observations, conflicts: [] as string[] } : mergeObservations(d.base, d.observations, theirs);
    showForm(toForm(merged));
    setNotice(
      conflicts.length
        ? `Un brouillon non envoyé était gardé sur ce téléphone ; le compte rendu a changé entre-temps : ${conflicts
            .map((c) => PART_LABELS[c] ?? c)
            .join(', ')} — la version du serveur est gardée pour ces rubriques, relisez-les.`
        : 'Un brouillon non envoyé était gardé sur ce téléphone : il est repris et envoyé.',
    );
    schedule(0);
  }

  /** Keeps the form on the phone at every keystroke, until the hub has it. */
  function keepDraft(f: ReportForm) {
    saveDraft(id, { observations: toObservations(f).observations, version: version.current, base: base.current });
  }

  function schedule(ms = AUTOSAVE_MS) {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => flush(), ms);
  }

  function edit(f: ReportForm) {
    showForm(f);
    keepDraft(f);
    schedule();
  }

  /** Saves the form if it differs from the hub's (or, `force`, a new report as it is). */
  async function flush(force = false): Promise<boolean> {
    clearTimeout(timer.current);
    while (saving.current) await saving.current;
    if (readOnlyRef.current || !formRef.current) return true;
    const { observations } = toObservations(formRef.current);
    const isNew = version.current === 0;
    if (sameObservations(observations, base.current) && !(force && isNew)) return true;
    const p = send(observations);
    saving.current = p;
    try {
      return await p;
    } finally {
      saving.current = null;
    }
  }

  async function send(observations: Observations): Promise<boolean> {
    setSave((s) => ({ ...s, state: 'saving' }));
    try {
      const r = await put<ReportView>(`/visits/${id}/report`, { observations, version: version.current });
      base.current = normalise(r.observations);
      version.current = r.version;
      setReport(r);
      keepRead(`/visits/${id}/report`, r);
      setSave({ state: 'saved', at: r.updated_at });
      setError((e) => (e?.fromSave ? null : e));
      if (formRef.current && !sameObservations(toObservations(formRef.current).observations, base.current)) {
        keepDraft(formRef.current);
        schedule();
      } else dropDraft(id);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setSave({ state: 'idle' });
        await loadReport('conflict').catch(() => {});
        return false;
      }
      if (e instanceof ApiError && e.status === 422) {
        const message = reportErrorMessage(e.field, e.detail, e.message);
        setError({ field: formField(e.field), message, fromSave: true });
        setSave({ state: 'error', message: `Non enregistré : ${message}` });
        return false;
      }
      if (e instanceof ApiError && e.status === 0) {
        // No network: the draft is on the phone; it leaves when the network returns.
        setSave({ state: 'offline', message: 'Pas de réseau : le brouillon est gardé sur ce téléphone et sera envoyé dès le retour du réseau.' });
        schedule(OFFLINE_RETRY_MS);
        return false;
      }
      const message = e instanceof ApiError ? e.message : 'Erreur inattendue.';
      setSave({ state: 'error', message: `Non enregistré (${message}) — nouvel essai dans un instant.` });
      schedule(5000);
      return false;
    }
  }

  function focusField(field: string | null) {
    if (!field) return;
    setTimeout(() => {
      const el = document.querySelector(`[data-field="${field}"]`);
      el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
      const target = el?.querySelector('textarea') ?? el?.querySelector('input, button');
      (target as HTMLElement | null)?.focus({ preventScroll: true });
    }, 50);
  }

  function failWith(e: unknown) {
    if (e instanceof ApiError) {
      const field = formField(e.field);
      const message = reportErrorMessage(e.field, e.detail, e.message);
      setError({ field, message });
      focusField(field);
    } else setError({ field: null, message: 'Erreur inattendue.' });
  }

  const physician: TreatingPhysician | null = patient?.treating_physician ?? null;

  async function validate() {
    setNotice(null);
    setError(null);
    const f = formRef.current;
    if (!f) return;
    const missing = missingForValidation(toObservations(f).observations);
    if (missing) {
      setError(missing);
      focusField(missing.field);
      return;
    }
    setBusy('validate');
    try {
      if (!(await flush(true))) return;
      const r = await post<{ report: ReportView; visit: Visit; letter: LetterView }>(`/visits/${id}/report/validate`, {
        version: version.current,
        treating_physician: physician ? { name: physician.name, rpps: physician.rpps ?? null, mssante: physician.mssante ?? null } : undefined,
      });
      absorb(r.report, 'load');
      setLetter(r.letter);
      props.onVisit?.(r.visit);
      window.scrollTo({ top: 0, behavior: 'smooth' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        await loadReport('conflict').catch(() => {});
        setNotice((n) => n ?? 'Le compte rendu a changé entre-temps : relisez-le, puis validez à nouveau.');
      } else failWith(e);
    } finally {
      setBusy(null);
    }
  }

  async function preview() {
    setError(null);
    // The window opens now, while the tap counts as the person's gesture; the PDF follows.
    const w = window.open('', '_blank');
    setBusy('preview');
    try {
      await flush(true);
      const url = URL.createObjectURL(await getBlob(`/visits/${id}/letter/preview`));
      if (w) w.location.href = url;
      else window.location.href = url;
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      w?.close();
      failWith(e);
    } finally {
      setBusy(null);
    }
  }

  async function closeWithoutReport() {
    if (!closing) return setClosing(true);
    setBusy('close');
    try {
      const v = await post<Visit>(`/visits/${id}/close`);
      props.onVisit?.(v);
      props.onBack();
    } catch (e) {
      failWith(e);
    } finally {
      setBusy(null);
      setClosing(false);
    }
  }

  async function choosePhysician(p: TreatingPhysician) {
    try {
      const updated = await patch<Patient>(`/patients/${visit.patient.id}`, { treating_physician: p });
      setPatient((old) => ({ ...(old ?? (updated as Patient)), ...updated }));
      setError((e) => (e?.field === 'physician' ? null : e));
    } catch (e) {
      failWith(e);
      throw e;
    }
  }

  async function back() {
    await flush();
    props.onBack();
  }

  if (loadError) {
    return (
      <div class="report">
        <button class="ghost" onClick={props.onBack}>
          ← Retour
        </button>
        <p class="error">{loadError}</p>
      </div>
    );
  }
  if (!form || !report) return <p class="loading">Chargement du compte rendu…</p>;

  const set = <K extends keyof ReportForm>(k: K, v: ReportForm[K]) => {
    // A complaint about a field goes once the field is changed (the hub says again if need be).
    const about = k === 'orientation_details' ? 'orientation' : k;
    if (error && !error.fromSave && (error.field === about || (about === 'vitals' && error.field?.startsWith('vitals.')))) setError(null);
    edit({ ...form, [k]: v });
  };
  const errFor = (field: string) => (error && error.field === field ? error.message : null);
  const localErrors = toObservations(form).errors;
  const a = age(visit.patient.birth_date);
  const doctorName = visit.doctor?.name ?? 'le médecin';

  return (
    <div class={`report${readOnly ? ' validated' : ''}`} data-report-status={report.status}>
      <header class="report-head">
        <button type="button" class="ghost back" onClick={back} aria-label="Retour à mes visites">
          ←
        </button>
        <div class="who-visit">
          <strong>{patientName(visit.patient)}</strong>
          <span class="muted">
            {a != null ? `${a} ans · ` : ''}
            {visit.address.city} · {VISIT_STATUS[visit.status]}
          </span>
        </div>
        <SaveBadge save={save} report={report} />
      </header>

      {!isDoctor && !readOnly && (
        <p class="banner delegate" role="note">
          Brouillon pour le {doctorName} — il le validera.
        </p>
      )}
      <p class="provenance muted small" data-testid="provenance">
        {provenance(report)}
      </p>
      {notice && (
        <p class="notice-box" role="status">
          {notice}{' '}
          <button type="button" class="ghost small" onClick={() => setNotice(null)}>
            OK
          </button>
        </p>
      )}
      {letter && <LetterBox visitId={id} letter={letter} onChange={setLetter} />}
      <VisitNurse visit={visit} me={props.me} bookings={nurse.bookings} onBooking={nurse.put} callbackPhone={props.doctorPhone} />

      <fieldset class="report-form" disabled={readOnly}>
        <Section title="Motif" field="motive" error={errFor('motive')}>
          <Text value={form.motive} onInput={(v) => set('motive', v)} label="Motif" rows={1} />
        </Section>
        <Section title="Antécédents" field="history" error={errFor('history')}>
          <Text value={form.history} onInput={(v) => set('history', v)} label="Antécédents, traitements, allergies" />
        </Section>
        <Section title="Examen" field="examination" error={errFor('examination')}>
          <VitalsGrid
            values={form.vitals}
            errors={localErrors}
            serverError={error}
            onChange={(k, v) => set('vitals', { ...form.vitals, [k]: v })}
          />
          <Text value={form.examination} onInput={(v) => set('examination', v)} label="Examen clinique" rows={3} />
        </Section>
        <Section title="ECG" field="ecgs">
          <EcgSection visitId={id} ecgs={ecgs} readOnly={!!readOnly} onChange={() => loadEcgs().catch(() => {})} />
        </Section>
        <Section title="Interprétation ECG" field="ecg_interpretation" error={errFor('ecg_interpretation')}>
          <Text value={form.ecg_interpretation} onInput={(v) => set('ecg_interpretation', v)} label="Interprétation ECG" />
        </Section>
        <Section title="Diagnostic" field="diagnoses-section">
          <DiagnosisPicker value={form.diagnoses} onChange={(d) => set('diagnoses', d)} disabled={!!readOnly} error={errFor('diagnoses')} />
        </Section>
        <Section title="Traitement" field="treatment" error={errFor('treatment')}>
          <Text value={form.treatment} onInput={(v) => set('treatment', v)} label="Traitement administré" />
        </Section>
        <Section title="Ordonnance" field="prescriptions" error={errFor('prescriptions')}>
          <Text
            value={form.prescriptions}
            onInput={(v) => set('prescriptions', v)}
            label="Ordonnance"
            hint="Une ligne par médicament"
            rows={3}
            placeholder={'Paracétamol 1 g : 1 cp toutes les 6 h si douleur, 5 jours\n…'}
          />
        </Section>
        <Section title="Orientation" field="orientation" error={errFor('orientation')}>
          <OrientationPicker
            kind={form.orientation}
            details={form.orientation_details}
            onKind={(k) => set('orientation', k)}
            onDetails={(d) => set('orientation_details', d)}
          />
        </Section>
        <Section title="Conseils" field="advice" error={errFor('advice')}>
          <Text value={form.advice} onInput={(v) => set('advice', v)} label="Conseils donnés" />
        </Section>
        <Section title="Suivi" field="follow_up" error={errFor('follow_up')}>
          <Text value={form.follow_up} onInput={(v) => set('follow_up', v)} label="Suivi" placeholder="ex. Revoir le médecin traitant sous 48 h" />
        </Section>
      </fieldset>

      <section class="rsec">
        <h3>Médecin traitant</h3>
        <PhysicianBox value={physician} onChoose={choosePhysician} readOnly={!!readOnly || !!letter} error={errFor('physician')} />
      </section>

      {error && !['motive', 'history', 'examination', 'ecg_interpretation', 'diagnoses', 'treatment', 'prescriptions', 'orientation', 'advice', 'follow_up', 'physician'].includes(error.field ?? '') && !error.field?.startsWith('vitals.') && (
        <p class="error global" role="alert" data-testid="report-error">
          {error.message}
        </p>
      )}

      {!readOnly && (
        <>
          <div class="report-actions">
            <button type="button" class="ghost big" disabled={busy !== null} onClick={preview}>
              {busy === 'preview' ? 'Aperçu…' : 'Aperçu de la lettre'}
            </button>
            {isDoctor ? (
              <button type="button" class="primary big" disabled={busy !== null} onClick={validate}>
                {busy === 'validate' ? 'Validation…' : 'Valider et envoyer'}
              </button>
            ) : (
              <span class="muted small">Enregistré au fil de la saisie. Le {doctorName} valide et envoie.</span>
            )}
          </div>
          {isDoctor && visit.status === 'on_site' && (
            <p class="close-without">
              <button type="button" class={closing ? 'danger' : 'ghost small'} disabled={busy !== null} onClick={closeWithoutReport} onBlur={() => setClosing(false)}>
                {closing ? 'Confirmer : clôturer sans compte rendu ni lettre' : 'Clôturer sans compte rendu'}
              </button>
            </p>
          )}
        </>
      )}
      {readOnly && (
        <div class="report-actions">
          <button type="button" class="ghost big" onClick={props.onBack}>
            ← Mes visites
          </button>
        </div>
      )}
    </div>
  );
}

function provenance(r: ReportView): string {
  if (r.status === 'empty') return 'Nouveau compte rendu : chaque rubrique est facultative pendant la saisie.';
  const drafted = r.drafted_by ? `Brouillon rédigé par ${r.drafted_by.name}` : 'Brouillon';
  if (r.status === 'validated') {
    return `Validé par ${r.validated_by?.name ?? '?'} le ${dateTime(r.validated_at)}${r.drafted_by ? ` · brouillon de ${r.drafted_by.name}` : ''}`;
  }
  return `${drafted} · modifié par ${r.updated_by?.name ?? '?'} à ${clock(r.updated_at)}`;
}

function SaveBadge(props: { save: SaveState; report: ReportView }) {
  const { save, report } = props;
  let text: string;
  let cls = 'save';
  if (report.status === 'validated') {
    text = 'Validé';
    cls += ' ok';
  } else if (save.state === 'saving') {
    text = 'Enregistrement…';
  } else if (save.state === 'offline') {
    text = 'Non envoyé — gardé sur ce téléphone';
    cls += ' bad offline';
  } else if (save.state === 'error') {
    text = 'Non enregistré';
    cls += ' bad';
  } else if (report.status === 'draft') {
    text = `Brouillon enregistré ${clock(save.at ?? report.updated_at)}`;
    cls += ' ok';
  } else {
    text = 'Pas encore de brouillon';
  }
  return (
    <span class={cls} data-testid="save-state" role="status" title={save.message}>
      {text}
    </span>
  );
}

function Section(props: { title: string; field: string; error?: string | null; children: ComponentChildren }) {
  return (
    <section class={`rsec${props.error ? ' has-error' : ''}`} data-field={props.field}>
      <h3>{props.title}</h3>
      {props.children}
      {props.error && (
        <small class="error" role="alert">
          {props.error}
        </small>
      )}
    </section>
  );
}

function Text(props: { value: string; onInput: (v: string) => void; label: string; rows?: number; hint?: string; placeholder?: string }) {
  return (
    <>
      {props.hint && <span class="muted small">{props.hint}</span>}
      <textarea
        aria-label={props.label}
        rows={props.rows ?? 2}
        value={props.value}
        placeholder={props.placeholder}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
      />
    </>
  );
}

function VitalsGrid(props: {
  values: Record<keyof Vitals, string>;
  errors: Record<string, string>;
  serverError: FieldError | null;
  onChange: (k: keyof Vitals, v: string) => void;
}) {
  const err = (k: string) => props.errors[`vitals.${k}`] ?? (props.serverError?.field === `vitals.${k}` ? props.serverError.message : null);
  const input = (k: keyof Vitals, label: string, integer: boolean) => (
    <input
      type="text"
      inputMode={integer ? 'numeric' : 'decimal'}
      aria-label={label}
      value={props.values[k]}
      onInput={(e) => props.onChange(k, (e.target as HTMLInputElement).value)}
    />
  );
  const sysErr = err('systolic_mmhg') ?? err('diastolic_mmhg');
  return (
    <div class="vitals">
      <label class={`vital ta${sysErr ? ' has-error' : ''}`} data-field="vitals.systolic_mmhg">
        <span>TA</span>
        <span class="pair" data-field="vitals.diastolic_mmhg">
          {input('systolic_mmhg', 'TA systolique', true)}
          <b>/</b>
          {input('diastolic_mmhg', 'TA diastolique', true)}
        </span>
        <em>mmHg</em>
        {sysErr && <small class="error">{sysErr}</small>}
      </label>
      {VITALS.filter((v) => v.key !== 'systolic_mmhg' && v.key !== 'diastolic_mmhg').map((v) => (
        <label key={v.key} class={`vital${err(v.key) ? ' has-error' : ''}`} data-field={`vitals.${v.key}`}>
          <span>{v.label}</span>
          {input(v.key, v.label, v.integer)}
          <em>{v.unit}</em>
          {err(v.key) && <small class="error">{err(v.key)}</small>}
        </label>
      ))}
    </div>
  );
}

const ORIENTATIONS: { kind: OrientationKind; label: string; icon: string; placeholder: string }[] = [
  { kind: 'home', label: ORIENTATION_LABELS.home, icon: '⌂', placeholder: '' },
  { kind: 'hospital', label: ORIENTATION_LABELS.hospital, icon: '✚', placeholder: 'Quel hôpital, quel service, comment (ambulance, famille…)' },
  { kind: 'samu_15', label: ORIENTATION_LABELS.samu_15, icon: '☎', placeholder: 'Régulation, SMUR…' },
];

function OrientationPicker(props: { kind: OrientationKind | null; details: string; onKind: (k: OrientationKind | null) => void; onDetails: (d: string) => void }) {
  const chosen = ORIENTATIONS.find((o) => o.kind === props.kind);
  return (
    <>
      <div class="orientation" role="radiogroup" aria-label="Orientation">
        {ORIENTATIONS.map((o) => (
          <button
            type="button"
            key={o.kind}
            role="radio"
            aria-checked={props.kind === o.kind}
            class={props.kind === o.kind ? `on ${o.kind}` : ''}
            onClick={() => props.onKind(props.kind === o.kind ? null : o.kind)}
          >
            <span aria-hidden="true">{o.icon}</span> {o.label}
          </button>
        ))}
      </div>
      {chosen && chosen.placeholder && (
        <input
          type="text"
          aria-label={chosen.kind === 'hospital' ? 'Quel hôpital' : 'Précisions'}
          placeholder={chosen.placeholder}
          value={props.details}
          onInput={(e) => props.onDetails((e.target as HTMLInputElement).value)}
        />
      )}
    </>
  );
}
