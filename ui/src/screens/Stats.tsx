// The call centre's figures for a day, a week or a month: calls and visits per hour (and per
// day), waits per priority (to assign, to arrive: median and 90th percentile), outcomes, per
// sector and per doctor. Charts by uPlot; the same figures as CSV.

import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { download, get } from '../api';
import { toFormError } from '../components/form';
import { addDays, dayLabel, mondayOf, parisParts, parisToUtc } from '../format';
import type { components } from '../api-schema';

type Stats = components['schemas']['Stats'];
type Span = 'day' | 'week' | 'month';

/** The Paris-day bounds of the period containing `day`. */
export function periodOf(span: Span, day: string): { first: string; next: string } {
  if (span === 'day') return { first: day, next: addDays(day, 1) };
  if (span === 'week') {
    const first = mondayOf(parisToUtc(day, '12:00'));
    return { first, next: addDays(first, 7) };
  }
  const [y, m] = day.split('-').map(Number);
  const first = `${y}-${String(m).padStart(2, '0')}-01`;
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return { first, next };
}

/** Outcomes as a chart's axis has room for them. */
const SHORT_OUTCOMES: Record<string, string> = {
  home_visit: 'Visite',
  advice: 'Conseil',
  teleconsultation: 'Téléconsult.',
  centre: 'Centre',
  samu_15: '15',
  hung_up: 'Raccroché',
};

const minutes = (x: number | null | undefined) => (x == null ? '—' : `${Math.round(x)} min`);

export function Statistics() {
  const [span, setSpan] = useState<Span>('day');
  const [day, setDay] = useState(() => parisParts(new Date()).date);
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { first, next } = periodOf(span, day);
  const query = `from=${encodeURIComponent(parisToUtc(first, '00:00'))}&to=${encodeURIComponent(parisToUtc(next, '00:00'))}`;

  useEffect(() => {
    setError(null);
    get<Stats>(`/stats?${query}`)
      .then(setStats)
      .catch((e) => setError(toFormError(e).message));
  }, [query]);

  function move(n: number) {
    if (span === 'day') setDay(addDays(day, n));
    else if (span === 'week') setDay(addDays(first, 7 * n));
    else setDay(n > 0 ? next : addDays(first, -1));
  }

  async function exportCsv() {
    try {
      await download(`/stats/export.csv?${query}`, `statistiques-${first}.csv`);
    } catch (e) {
      setError(toFormError(e).message);
    }
  }

  const label =
    span === 'day' ? dayLabel(first) : span === 'week' ? `semaine du ${dayLabel(first)}` : new Date(`${first}T12:00:00Z`).toLocaleDateString('fr-FR', { month: 'long', year: 'numeric' });
  const answered = stats ? stats.outcomes.filter((o) => o.outcome !== 'hung_up').reduce((n, o) => n + o.calls, 0) : 0;

  return (
    <section class="panel stats" aria-label="Statistiques">
      <h2>
        Statistiques
        <span class="segmented small" role="radiogroup" aria-label="Période">
          {(['day', 'week', 'month'] as Span[]).map((s) => (
            <label key={s} class={span === s ? 'on' : ''}>
              <input type="radio" name="span" checked={span === s} onChange={() => setSpan(s)} />
              {{ day: 'Jour', week: 'Semaine', month: 'Mois' }[s]}
            </label>
          ))}
        </span>
        <button class="ghost small" onClick={() => move(-1)} aria-label="Période précédente">
          ←
        </button>
        <span data-testid="period">{label}</span>
        <button class="ghost small" onClick={() => move(1)} aria-label="Période suivante">
          →
        </button>
        <input type="date" value={day} onInput={(e) => (e.target as HTMLInputElement).value && setDay((e.target as HTMLInputElement).value)} aria-label="Jour" class="day-pick" />
        <span class="spacer" />
        <button class="ghost small" onClick={exportCsv}>
          Exporter (CSV)
        </button>
      </h2>
      {error && <p class="error" role="alert">{error}</p>}
      {stats && (
        <>
          <div class="kpis">
            <Kpi label="Appels" value={stats.calls} />
            <Kpi label="Visites" value={stats.visits} />
            <Kpi label="Sans visite" value={answered - stats.visits} />
            <Kpi label="Arrivée médiane P1" value={minutes(stats.waits[0]?.arrive_p50_min)} />
            <Kpi label="Arrivée médiane P2" value={minutes(stats.waits[1]?.arrive_p50_min)} />
          </div>
          <div class="charts">
            <figure>
              <figcaption>Appels et visites par heure{span === 'day' ? '' : ' (cumul de la période)'}</figcaption>
              <Chart
                testid="chart-hours"
                x={stats.by_hour.map((h) => h.hour)}
                series={[
                  { label: 'Appels', values: stats.by_hour.map((h) => h.calls), color: '#597ef7' },
                  { label: 'Visites', values: stats.by_hour.map((h) => h.visits), color: '#52c41a' },
                ]}
                xLabel={(v) => `${v}h`}
              />
            </figure>
            {span !== 'day' && (
              <figure>
                <figcaption>Par jour</figcaption>
                <Chart
                  testid="chart-days"
                  x={stats.by_day.map((_, i) => i)}
                  series={[
                    { label: 'Appels', values: stats.by_day.map((d) => d.calls), color: '#597ef7' },
                    { label: 'Visites', values: stats.by_day.map((d) => d.visits), color: '#52c41a' },
                  ]}
                  xLabel={(v) => (stats.by_day[v] ? stats.by_day[v].day.slice(8, 10) + '/' + stats.by_day[v].day.slice(5, 7) : '')}
                />
              </figure>
            )}
            <figure>
              <figcaption>Délais par priorité (minutes)</figcaption>
              <Chart
                testid="chart-waits"
                x={[1, 2, 3]}
                series={[
                  { label: 'Arrivée, 90e centile', values: stats.waits.map((w) => w.arrive_p90_min ?? null), color: '#a8071a' },
                  { label: 'Arrivée, médiane', values: stats.waits.map((w) => w.arrive_p50_min ?? null), color: '#eb2f96' },
                  { label: 'Attribution, médiane', values: stats.waits.map((w) => w.assign_p50_min ?? null), color: '#faad14' },
                ]}
                xLabel={(v) => (Number.isInteger(v) ? `P${v}` : '')}
              />
            </figure>
            <figure>
              <figcaption>Issues des appels</figcaption>
              <Chart
                testid="chart-outcomes"
                x={stats.outcomes.map((_, i) => i)}
                series={[{ label: 'Appels', values: stats.outcomes.map((o) => o.calls), color: '#13c2c2' }]}
                xLabel={(v) => (stats.outcomes[v] ? SHORT_OUTCOMES[stats.outcomes[v].outcome] : '')}
              />
            </figure>
          </div>
          <div class="tables">
            <table class="list" aria-label="Délais par priorité">
              <thead>
                <tr>
                  <th>Priorité</th>
                  <th class="num">Visites</th>
                  <th class="num">Attribution médiane</th>
                  <th class="num">Attribution 90 %</th>
                  <th class="num">Arrivée médiane</th>
                  <th class="num">Arrivée 90 %</th>
                </tr>
              </thead>
              <tbody>
                {stats.waits.map((w) => (
                  <tr key={w.urgency}>
                    <td>
                      <span class={`urgency p${w.urgency}`}>P{w.urgency}</span>
                    </td>
                    <td class="num">{w.visits}</td>
                    <td class="num">{minutes(w.assign_p50_min)}</td>
                    <td class="num">{minutes(w.assign_p90_min)}</td>
                    <td class="num">{minutes(w.arrive_p50_min)}</td>
                    <td class="num">{minutes(w.arrive_p90_min)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Groups title="Par secteur" rows={stats.sectors} />
            <Groups title="Par médecin" rows={stats.doctors} />
          </div>
        </>
      )}
    </section>
  );
}

function Kpi(props: { label: string; value: string | number }) {
  return (
    <div class="kpi">
      <span class="muted small">{props.label}</span>
      <strong>{props.value}</strong>
    </div>
  );
}

function Groups(props: { title: string; rows: Stats['sectors'] }) {
  return (
    <table class="list" aria-label={props.title}>
      <thead>
        <tr>
          <th>{props.title}</th>
          <th class="num">Appels</th>
          <th class="num">Visites</th>
          <th class="num">Arrivée médiane</th>
          <th class="num">Arrivée 90 %</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((g) => (
          <tr key={`${g.id}-${g.name}`}>
            <td>{g.name}</td>
            <td class="num">{g.calls}</td>
            <td class="num">{g.visits}</td>
            <td class="num">{minutes(g.arrive_p50_min)}</td>
            <td class="num">{minutes(g.arrive_p90_min)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

let uplot: Promise<typeof uPlot> | null = null;

/**
 * uPlot, loaded with the first chart. It reads `navigator.language` into Intl.NumberFormat as it
 * loads: a webview started under LANG=C says "C", which Intl refuses, and the whole bundle would
 * fail with it if uPlot were imported up front.
 */
function loadUplot(): Promise<typeof uPlot> {
  try {
    new Intl.NumberFormat(navigator.language);
  } catch {
    Object.defineProperty(navigator, 'language', { value: 'fr-FR', configurable: true });
  }
  return (uplot ??= import('uplot').then((m) => m.default));
}

/** Bars drawn by uPlot, one series inside the other, sized to their box. */
function Chart(props: { x: number[]; series: { label: string; values: (number | null)[]; color: string }[]; xLabel: (v: number) => string; testid: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = el.current;
    if (!box) return;
    let gone = false;
    let cleanup = () => {
      gone = true;
    };
    loadUplot().then((UPlot) => {
      if (gone) return;
    const n = props.series.length;
    const bars = UPlot.paths.bars!;
    const opts: uPlot.Options = {
      width: Math.max(240, box.clientWidth),
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } },
      axes: [
        { stroke: '#93a1b0', grid: { show: false }, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? props.xLabel(v) : '')), space: 34 },
        { stroke: '#93a1b0', grid: { stroke: '#2a3644', width: 1 } },
      ],
      series: [
        { label: '', value: (_u, v) => (v == null ? '' : props.xLabel(v)) },
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: s.color,
          fill: s.color,
          width: 0,
          // Nested bars, the first series widest: visits inside calls, medians inside the 90th percentile.
          paths: bars({ size: [n === 1 ? 0.7 : 0.8 - (i * 0.5) / (n - 1), 80], align: 0 }),
          points: { show: false },
        })),
      ],
    };
    const data = [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new UPlot(opts, data, box);
    const seen = new ResizeObserver(() => plot.setSize({ width: Math.max(240, box.clientWidth), height: 220 }));
    seen.observe(box);
    cleanup = () => {
      seen.disconnect();
      plot.destroy();
    };
    });
    return () => cleanup();
  }, [JSON.stringify(props.x), JSON.stringify(props.series)]);
  return <div class="chart" ref={el} data-testid={props.testid} />;
}
