// The ECGs of a visit: upload from the device's files, the list (format, leads, rate), and the
// paper view (the hub draws 10-second pages at 25 mm/s, 10 mm/mV as SVG, in millimetres).

import { useState } from 'preact/hooks';
import { ApiError, apiUrl, del, upload } from '../api';
import { dateTime } from '../format';
import { ecgErrorMessage, ecgPages, ecgSummary, ECG_PAGE_S, type EcgView } from '../report';

/** Splits picked files into recordings: a WFDB record (.hea + its .dat) is one; any other file is one. */
export function groupFiles(files: File[]): File[][] {
  const hea = files.filter((f) => /\.hea$/i.test(f.name));
  if (hea.length === 0) return files.map((f) => [f]);
  const groups: File[][] = hea.map((h) => [h]);
  const rest: File[] = [];
  for (const f of files) {
    if (hea.includes(f)) continue;
    const base = f.name.replace(/\.[^.]+$/, '');
    const g = groups.find((g) => g[0].name.replace(/\.[^.]+$/, '') === base);
    if (g) g.push(f);
    else rest.push(f);
  }
  if (groups.length === 1) groups[0].push(...rest.filter((f) => /\.(dat|atr|\d+)$/i.test(f.name)));
  const placed = new Set(groups.flat());
  return [...groups, ...files.filter((f) => !placed.has(f)).map((f) => [f])];
}

export function EcgSection(props: { visitId: number; ecgs: EcgView[]; readOnly: boolean; onChange: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [removing, setRemoving] = useState<number | null>(null);

  async function send(input: HTMLInputElement) {
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (!files.length) return;
    setBusy(true);
    setError(null);
    const problems: string[] = [];
    for (const group of groupFiles(files)) {
      const form = new FormData();
      for (const f of group) form.append('file', f, f.name);
      try {
        const added = await upload<EcgView>(`/visits/${props.visitId}/ecgs`, form);
        setOpen(added.format === 'pdf' ? null : added.id);
      } catch (e) {
        const msg = e instanceof ApiError ? ecgErrorMessage(e.status, e.detail, e.message) : 'Envoi impossible.';
        problems.push(`${group.map((f) => f.name).join(' + ')} : ${msg}`);
      }
    }
    setBusy(false);
    if (problems.length) setError(problems.join('\n'));
    props.onChange();
  }

  async function remove(e: EcgView) {
    if (removing !== e.id) return setRemoving(e.id);
    try {
      await del(`/ecgs/${e.id}`);
      setRemoving(null);
      if (open === e.id) setOpen(null);
      props.onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <div class="ecgs">
      {!props.readOnly && (
        <label class={`button upload${busy ? ' busy' : ''}`}>
          <input type="file" multiple aria-label="Ajouter un ECG (fichiers)" disabled={busy} onChange={(e) => send(e.target as HTMLInputElement)} />
          {busy ? 'Envoi…' : '+ Ajouter un ECG'}
          <small>SCP, aECG .xml, DICOM, EDF, Contec, PDF, WFDB .hea + .dat</small>
        </label>
      )}
      {error && (
        <p class="error ecg-error" role="alert">
          {error}
        </p>
      )}
      {props.ecgs.length === 0 && props.readOnly && <p class="muted">Aucun ECG.</p>}
      <ul class="ecg-list">
        {props.ecgs.map((e) => (
          <li key={e.id} data-ecg={e.id} class={open === e.id ? 'open' : ''}>
            <div class="ecg-row">
              {e.format === 'pdf' ? (
                <a class="button ecg-open" href={apiUrl(`/ecgs/${e.id}/files/${encodeURIComponent(e.file_name)}`)} target="_blank" rel="noopener">
                  <b>{ecgSummary(e)}</b>
                  <span class="muted">{e.file_name} · ouvrir</span>
                </a>
              ) : (
                <button type="button" class="ecg-open" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                  <b>{ecgSummary(e)}</b>
                  <span class="muted">
                    {e.file_name}
                    {e.acquired_at ? ` · ${e.acquired_at.replace('T', ' ').slice(0, 16)}` : ''} · {open === e.id ? 'fermer' : 'voir le tracé'}
                  </span>
                </button>
              )}
              {!props.readOnly && (
                <button type="button" class={removing === e.id ? 'danger small' : 'ghost small'} onClick={() => remove(e)} onBlur={() => setRemoving(null)}>
                  {removing === e.id ? 'Confirmer' : 'Retirer'}
                </button>
              )}
            </div>
            {open === e.id && <EcgPaper ecg={e} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

const ZOOMS = [1, 1.6, 2.5, 4];

/** One 10-second page on ECG paper, full width; zoom buttons and pages for long recordings. */
export function EcgPaper(props: { ecg: EcgView }) {
  const e = props.ecg;
  const pages = ecgPages(e.duration_s);
  const [page, setPage] = useState(0);
  const [zoom, setZoom] = useState(0);
  const [loading, setLoading] = useState(true);
  const [failed, setFailed] = useState(false);
  const start = pages[page] ?? 0;
  const src = apiUrl(`/ecgs/${e.id}/svg?start_s=${start}`);
  const end = Math.min(start + ECG_PAGE_S, e.duration_s ?? start + ECG_PAGE_S);
  const go = (p: number) => {
    setLoading(true);
    setFailed(false);
    setPage(p);
  };
  return (
    <div class="ecg-paper" data-testid="ecg-paper">
      <div class="ecg-tools">
        {pages.length > 1 && (
          <span class="pager">
            <button type="button" disabled={page === 0} onClick={() => go(page - 1)} aria-label="10 secondes avant">
              ◀
            </button>
            <span class="muted">
              {fmtS(start)}–{fmtS(end)} / {fmtS(e.duration_s ?? 0)}
            </span>
            <button type="button" disabled={page >= pages.length - 1} onClick={() => go(page + 1)} aria-label="10 secondes après">
              ▶
            </button>
          </span>
        )}
        <span class="spacer" />
        <button type="button" disabled={zoom === 0} onClick={() => setZoom(zoom - 1)} aria-label="Réduire">
          −
        </button>
        <button type="button" disabled={zoom === ZOOMS.length - 1} onClick={() => setZoom(zoom + 1)} aria-label="Agrandir">
          +
        </button>
        <a class="button" href={src} target="_blank" rel="noopener">
          Plein écran
        </a>
      </div>
      <div class="ecg-scroll">
        <img
          src={src}
          alt={`ECG ${e.leads.join(', ')}, de ${fmtS(start)} à ${fmtS(end)}`}
          style={{ width: `${ZOOMS[zoom] * 100}%` }}
          onLoad={() => setLoading(false)}
          onError={() => {
            setLoading(false);
            setFailed(true);
          }}
        />
      </div>
      {loading && <p class="muted small">Tracé en cours de chargement…</p>}
      {failed && <p class="error small">Le tracé ne peut pas être affiché.</p>}
      <p class="muted small">
        25 mm/s · 10 mm/mV{e.device ? ` · ${e.device}` : ''} · envoyé par {e.uploaded_by.name} le {dateTime(e.created_at)} ·{' '}
        <a href={apiUrl(`/ecgs/${e.id}/files/${encodeURIComponent(e.file_name)}`)}>fichier original</a>
      </p>
    </div>
  );
}

function fmtS(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')}`;
}
