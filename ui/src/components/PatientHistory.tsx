// The patient's history with the association, on the visit (#15): « vu le 12/03 par Dr X »
// and what that doctor found (diagnoses, examination, treatment, orientation, ECGs), newest
// first. The hub gives it to the care team only and records each read.

import { apiUrl } from '../api';
import { day, VISIT_STATUS } from '../format';
import { ORIENTATION_LABELS } from '../report';
import type { components } from '../api-schema';

export type HistoryEntry = components['schemas']['HistoryEntry'];

const cut = (s: string, n = 220) => (s.length > n ? `${s.slice(0, n).trimEnd()}…` : s);

export function PatientHistory(props: { entries: HistoryEntry[] }) {
  if (props.entries.length === 0) return <p class="muted history-empty">Première visite de l'association.</p>;
  return (
    <ol class="timeline" aria-label="Visites précédentes">
      {props.entries.map((h) => {
        const r = h.report;
        return (
          <li key={h.visit_id} data-visit={h.visit_id}>
            <p class="when">
              <strong>
                {r ? 'Vu' : VISIT_STATUS[h.status]} le {day(h.closed_at ?? h.received_at)}
              </strong>
              {h.doctor ? ` par ${h.doctor.name}` : ''} — {h.motive}
            </p>
            {r ? (
              <>
                {r.diagnoses.length > 0 && <p class="dx">{r.diagnoses.map((d) => `${d.label} (${d.code})`).join(' ; ')}</p>}
                {r.examination && <p>{cut(r.examination)}</p>}
                {r.ecg_interpretation && <p>ECG : {cut(r.ecg_interpretation, 160)}</p>}
                {r.treatment && <p>Traitement : {cut(r.treatment, 160)}</p>}
                {r.orientation && (
                  <p>
                    Orientation : {ORIENTATION_LABELS[r.orientation.kind]}
                    {r.orientation.details ? ` (${r.orientation.details})` : ''}
                  </p>
                )}
                {r.follow_up && <p class="muted">Suivi : {cut(r.follow_up, 160)}</p>}
                {h.ecgs.map((e) => (
                  <a key={e.id} class="ecg-link" href={apiUrl(`/ecgs/${e.id}/svg`)} target="_blank" rel="noopener">
                    ECG {e.format.toUpperCase()}
                    {e.heart_rate_bpm ? ` · ${Math.round(e.heart_rate_bpm)} bpm` : ''}
                  </a>
                ))}
              </>
            ) : (
              h.status === 'closed' && <p class="muted">Compte rendu non validé.</p>
            )}
          </li>
        );
      })}
    </ol>
  );
}
