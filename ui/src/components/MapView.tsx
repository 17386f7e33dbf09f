// The board's map: sectors, doctors and calls. Tiles come from a setting; without tiles (none set,
// or unreachable) the map still draws everything on a plain background.

import { useEffect, useRef } from 'preact/hooks';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { Doctor, Sector, Visit } from '../types';
import { DOCTOR_STATUS } from '../format';

export const TILE_KEY = 'chevet.tiles';
export const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

export function tileUrl(): string {
  return localStorage.getItem(TILE_KEY) ?? DEFAULT_TILES;
}

const URGENCY_COLOURS = ['#ff4d4f', '#ffa940', '#69c0ff'];
const DOCTOR_COLOURS: Record<string, string> = {
  available: '#52c41a',
  en_route: '#faad14',
  on_site: '#eb2f96',
  at_centre: '#13c2c2',
  off_duty: '#8c8c8c',
};

export function MapView(props: { sectors: Sector[]; doctors: Doctor[]; visits: Visit[]; onPick?: (visitId: number) => void }) {
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const m = L.map(el.current, { zoomControl: true, attributionControl: true }).setView([45.185, 5.73], 12);
    const url = tileUrl();
    if (url) L.tileLayer(url, { maxZoom: 19, attribution: '© OpenStreetMap' }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    map.current = m;
    return () => m.remove();
  }, []);

  useEffect(() => {
    const g = layer.current;
    if (!g) return;
    g.clearLayers();
    for (const s of props.sectors) {
      L.geoJSON(s.boundary as never, { style: { color: '#597ef7', weight: 1, fillOpacity: 0.05 } })
        .bindTooltip(s.name)
        .addTo(g);
    }
    for (const d of props.doctors) {
      if (!d.position || d.status === 'off_duty') continue;
      L.circleMarker([d.position.lat, d.position.lon], {
        radius: 7,
        color: '#fff',
        weight: 2,
        fillColor: DOCTOR_COLOURS[d.status],
        fillOpacity: 1,
      })
        .bindTooltip(`${d.name} — ${DOCTOR_STATUS[d.status]}`)
        .addTo(g);
    }
    for (const v of props.visits) {
      const { lat, lon } = v.address;
      if (lat == null || lon == null) continue;
      const marker = L.circleMarker([lat, lon], {
        radius: 9,
        color: URGENCY_COLOURS[v.urgency - 1],
        weight: 3,
        fillColor: v.status === 'received' ? URGENCY_COLOURS[v.urgency - 1] : '#10151c',
        fillOpacity: 0.8,
      }).bindTooltip(`P${v.urgency} — ${v.motive}`);
      if (props.onPick) marker.on('click', () => props.onPick!(v.id));
      marker.addTo(g);
    }
  }, [props.sectors, props.doctors, props.visits]);

  return <div class="map" ref={el} data-testid="map" />;
}
