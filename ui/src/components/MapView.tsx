// The board's map: sectors, doctors and calls. Tiles come from a setting; without tiles (none set,
// or unreachable) the map still draws everything on a plain background.

import { useEffect, useRef } from 'preact/hooks';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { Doctor, Sector, Visit } from '../types';
import { DOCTOR_STATUS, positionWords } from '../format';

export const TILE_KEY = 'chevet.tiles';
export const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

export function tileUrl(): string {
  return localStorage.getItem(TILE_KEY) ?? DEFAULT_TILES;
}

/**
 * A tooltip's content as text: Leaflet reads a string as HTML, and a motive or a name is typed by
 * people (an EHPAD nurse, a doctor's profile), so it must never become markup.
 */
export function asText(s: string): HTMLElement {
  const el = document.createElement('span');
  el.textContent = s;
  return el;
}

// A pin drawn in CSS: no image file to serve (Leaflet's default icon needs one).
const PIN = L.divIcon({ className: 'pin', html: '<span></span>', iconSize: [22, 22], iconAnchor: [11, 22] });

const URGENCY_COLOURS = ['#ff4d4f', '#ffa940', '#69c0ff'];
const DOCTOR_COLOURS: Record<string, string> = {
  available: '#52c41a',
  en_route: '#faad14',
  on_site: '#eb2f96',
  at_centre: '#13c2c2',
  off_duty: '#8c8c8c',
};

type LatLon = { lat: number; lon: number };

export function MapView(props: {
  sectors: Sector[];
  doctors: Doctor[];
  visits: Visit[];
  onPick?: (visitId: number) => void;
  /** The call being taken: its position, shown as a pin that can be dragged. */
  pin?: LatLon | null;
  /** While true, a click on the map places the pin. */
  picking?: boolean;
  onPlace?: (p: LatLon) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const pinLayer = useRef<L.LayerGroup | null>(null);
  const place = useRef(props.onPlace);
  const picking = useRef(props.picking);
  place.current = props.onPlace;
  picking.current = props.picking;

  useEffect(() => {
    if (!el.current) return;
    const m = L.map(el.current, { zoomControl: true, attributionControl: true }).setView([45.185, 5.73], 12);
    const url = tileUrl();
    if (url) L.tileLayer(url, { maxZoom: 19, attribution: '© OpenStreetMap' }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    pinLayer.current = L.layerGroup().addTo(m);
    m.on('click', (e: L.LeafletMouseEvent) => {
      if (picking.current && place.current) place.current({ lat: e.latlng.lat, lon: e.latlng.lng });
    });
    map.current = m;
    // Shown again after another tab, or the board's layout changed: Leaflet measures anew.
    const seen = new ResizeObserver(() => m.invalidateSize());
    seen.observe(el.current);
    return () => {
      seen.disconnect();
      m.remove();
    };
  }, []);

  useEffect(() => {
    const g = layer.current;
    if (!g) return;
    g.clearLayers();
    for (const s of props.sectors) {
      L.geoJSON(s.boundary as never, { style: { color: '#597ef7', weight: 1, fillOpacity: 0.05 } })
        .bindTooltip(asText(s.name))
        .addTo(g);
    }
    for (const d of props.doctors) {
      if (!d.position || d.status === 'off_duty') continue;
      // An old fix is drawn faded and dashed: he may be elsewhere by now.
      const where = positionWords(d);
      L.circleMarker([d.position.lat, d.position.lon], {
        radius: 7,
        color: where.stale ? '#8c8c8c' : '#fff',
        weight: 2,
        dashArray: where.stale ? '3 3' : undefined,
        fillColor: DOCTOR_COLOURS[d.status],
        fillOpacity: where.stale ? 0.35 : 1,
      })
        .bindTooltip(asText(`${d.name} — ${DOCTOR_STATUS[d.status]} — position ${where.text}`))
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
      }).bindTooltip(asText(`P${v.urgency} — ${v.motive}`));
      if (props.onPick) marker.on('click', () => props.onPick!(v.id));
      marker.addTo(g);
    }
  }, [props.sectors, props.doctors, props.visits]);

  useEffect(() => {
    const g = pinLayer.current;
    if (!g) return;
    g.clearLayers();
    if (!props.pin) return;
    const marker = L.marker([props.pin.lat, props.pin.lon], { draggable: true, title: 'Position du patient', icon: PIN })
      .bindTooltip(asText('Position de l’appel (déplaçable)'))
      .addTo(g);
    marker.on('dragend', () => {
      const p = marker.getLatLng();
      place.current?.({ lat: p.lat, lon: p.lng });
    });
    map.current?.panTo([props.pin.lat, props.pin.lon]);
  }, [props.pin?.lat, props.pin?.lon]);

  return <div class={`map${props.picking ? ' picking' : ''}`} ref={el} data-testid="map" />;
}
