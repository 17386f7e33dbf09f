// The treating physician the letter goes to: the patient's known one, or one found in the
// directory (RPPS / MSSanté extracts) by name and commune, or typed by hand.

import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { practitionerName, type PractitionerHit, type TreatingPhysician } from '../report';

export function PhysicianBox(props: {
  value: TreatingPhysician | null;
  onChoose: (p: TreatingPhysician) => Promise<void> | void;
  readOnly: boolean;
  error?: string | null;
}) {
  const [editing, setEditing] = useState(false);
  const p = props.value;
  return (
    <div class={`physician${props.error ? ' has-error' : ''}`} data-field="physician">
      {p ? (
        <div class="physician-now">
          <strong>{p.name}</strong>
          {p.mssante ? (
            <span class="mss">✉ {p.mssante}</span>
          ) : (
            <span class="warn-text">Pas d'adresse MSSanté : la lettre attendra une adresse.</span>
          )}
          {p.rpps && <span class="muted small">RPPS {p.rpps}</span>}
        </div>
      ) : (
        <p class="warn-text">Aucun médecin traitant connu pour ce patient.</p>
      )}
      {!props.readOnly && !editing && (
        <button type="button" class="ghost" onClick={() => setEditing(true)}>
          {p ? 'Changer de médecin traitant' : 'Chercher le médecin traitant'}
        </button>
      )}
      {editing && (
        <PhysicianSearch
          initial={p}
          onCancel={() => setEditing(false)}
          onChoose={async (x) => {
            await props.onChoose(x);
            setEditing(false);
          }}
        />
      )}
      {props.error && (
        <small class="error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

function PhysicianSearch(props: { initial: TreatingPhysician | null; onChoose: (p: TreatingPhysician) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [city, setCity] = useState('');
  const [hits, setHits] = useState<PractitionerHit[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [manual, setManual] = useState({ name: props.initial?.name ?? '', mssante: props.initial?.mssante ?? '', rpps: props.initial?.rpps ?? '' });

  useEffect(() => {
    if (name.trim().length < 2) {
      setHits(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      const q = `/practitioners?name=${encodeURIComponent(name.trim())}${city.trim() ? `&city=${encodeURIComponent(city.trim())}` : ''}&limit=15`;
      get<PractitionerHit[]>(q)
        .then((h) => live && (setHits(h), setFailed(null)))
        .catch((e) => live && setFailed(e.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [name, city]);

  return (
    <div class="physician-search">
      <div class="row">
        <label class="field wide">
          <span>Nom du médecin</span>
          <input value={name} autocomplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="ex. Perret Anne" />
        </label>
        <label class="field">
          <span>Commune ou code postal</span>
          <input value={city} autocomplete="off" onInput={(e) => setCity((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {failed && <p class="error small">{failed}</p>}
      {hits && hits.length === 0 && <p class="muted small">Personne dans l'annuaire : saisissez-le ci-dessous.</p>}
      {hits && hits.length > 0 && (
        <ul class="pick-list" aria-label="Médecins trouvés">
          {hits.map((h) => (
            <li key={h.id}>
              <button
                type="button"
                onClick={() => props.onChoose({ name: practitionerName(h), rpps: h.rpps, mssante: h.mssante })}
              >
                <b>{practitionerName(h)}</b>
                <span class="muted">
                  {[h.specialty ?? h.profession, [h.postcode, h.city].filter(Boolean).join(' ')].filter(Boolean).join(' · ')}
                </span>
                <span class={h.mssante ? 'mss' : 'warn-text'}>{h.mssante ? `✉ ${h.mssante}` : 'pas d’adresse MSSanté'}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <details class="manual">
        <summary>Saisir à la main</summary>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!manual.name.trim()) return;
            props.onChoose({ name: manual.name.trim(), mssante: manual.mssante.trim() || null, rpps: manual.rpps.trim() || null });
          }}
        >
          <label class="field">
            <span>Nom (ex. Dr Anne Perret)</span>
            <input value={manual.name} onInput={(e) => setManual({ ...manual, name: (e.target as HTMLInputElement).value })} />
          </label>
          <label class="field">
            <span>Adresse MSSanté</span>
            <input type="email" inputMode="email" value={manual.mssante} onInput={(e) => setManual({ ...manual, mssante: (e.target as HTMLInputElement).value })} placeholder="nom@medecin.mssante.fr" />
          </label>
          <label class="field">
            <span>RPPS (facultatif)</span>
            <input inputMode="numeric" value={manual.rpps} onInput={(e) => setManual({ ...manual, rpps: (e.target as HTMLInputElement).value })} />
          </label>
          <button type="submit" class="primary">
            Retenir ce médecin
          </button>
        </form>
      </details>
      <button type="button" class="ghost" onClick={props.onCancel}>
        Annuler
      </button>
    </div>
  );
}
