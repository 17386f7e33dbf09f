// The visit's report, read only, for the nurses of the resident's EHPAD: large text for a tablet
// or a ward PC, the prescription set out line by line (the nurses apply it), and a print button
// (the print stylesheet leaves only the report on paper).

import type { ComponentChildren } from 'preact';
import { age, dateTime, patientName } from '../format';
import { doctorTitle, frenchDate, orientationText, prescriptionLines, validatedLine, vitalsList } from '../nurseReport';
import { normalise, type ReportView } from '../report';
import type { Visit } from '../types';

export function EhpadReport(props: { visit: Visit; report: ReportView; onBack: () => void }) {
  const { visit, report } = props;
  const o = normalise(report.observations);
  const vitals = vitalsList(o.vitals);
  const prescriptions = prescriptionLines(o.prescriptions);
  const orientation = orientationText(o.orientation);
  const born = frenchDate(visit.patient.birth_date);
  const a = age(visit.patient.birth_date);
  const doctor = report.validated_by?.name ?? visit.doctor?.name;

  return (
    <article class="reader" aria-label="Compte rendu de visite" data-visit={visit.id} data-report-status={report.status}>
      <div class="reader-bar no-print">
        <button type="button" class="ghost big" onClick={props.onBack}>
          ← Mes demandes
        </button>
        <button type="button" class="primary big" onClick={() => window.print()}>
          Imprimer
        </button>
      </div>
      <header class="reader-head">
        <h1>Compte rendu de visite médicale</h1>
        <p class="reader-patient">
          <strong>{patientName(visit.patient)}</strong>
          {born && (
            <span>
              {' '}
              · né(e) le {born}
              {a != null ? ` (${a} ans)` : ''}
            </span>
          )}
        </p>
        <p class="muted">
          Visite demandée le {dateTime(visit.received_at)}
          {visit.closed_at ? ` · terminée le ${dateTime(visit.closed_at)}` : ''}
          {doctor ? ` · ${doctorTitle(doctor)}` : ''}
        </p>
        <p class="reader-validated" data-testid="validated">
          ✓ {validatedLine(report)}
        </p>
      </header>

      <Part title="Motif">{o.motive}</Part>
      <Part title="Antécédents">{o.history}</Part>
      {(vitals.length > 0 || o.examination.trim()) && (
        <Part title="Examen">
          {vitals.length > 0 && (
            <dl class="reader-vitals" aria-label="Constantes">
              {vitals.map((v) => (
                <div key={v.label}>
                  <dt>{v.label}</dt>
                  <dd>{v.value}</dd>
                </div>
              ))}
            </dl>
          )}
          {o.examination.trim() && <p class="reader-text">{o.examination}</p>}
        </Part>
      )}
      <Part title="Interprétation ECG">{o.ecg_interpretation}</Part>
      {o.diagnoses.length > 0 && (
        <Part title="Diagnostic">
          <ul class="reader-dx" aria-label="Diagnostics">
            {o.diagnoses.map((d) => (
              <li key={d.code}>
                <b class="code" title="Code CIM-10">
                  {d.code}
                </b>{' '}
                {d.label}
              </li>
            ))}
          </ul>
        </Part>
      )}
      <Part title="Traitement administré">{o.treatment}</Part>
      {prescriptions.length > 0 && (
        <Part title="Ordonnance — à appliquer" wide>
          <ol class="reader-rx" aria-label="Ordonnance">
            {prescriptions.map((l, i) => (
              <li key={i}>{l}</li>
            ))}
          </ol>
        </Part>
      )}
      {orientation && (
        <Part title="Orientation">
          <p class={`reader-text orientation-${o.orientation?.kind}`}>{orientation}</p>
        </Part>
      )}
      <Part title="Conseils">{o.advice}</Part>
      <Part title="Suivi">{o.follow_up}</Part>

      <footer class="reader-foot">{validatedLine(report)}</footer>
    </article>
  );
}

/** A part of the report; a text part left empty by the doctor is not shown. */
function Part(props: { title: string; wide?: boolean; children: ComponentChildren }) {
  const text = typeof props.children === 'string';
  if (text && !(props.children as string).trim()) return null;
  return (
    <section class={`reader-part${props.wide ? ' wide' : ''}`}>
      <h2>{props.title}</h2>
      {text ? <p class="reader-text">{props.children}</p> : props.children}
    </section>
  );
}
