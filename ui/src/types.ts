// Shapes of the hub's JSON answers (see /api/openapi.json).

export type Role = 'admin' | 'dispatcher' | 'doctor' | 'assistant' | 'ehpad_nurse' | 'partner_nurse';
export type VisitStatus = 'received' | 'assigned' | 'en_route' | 'on_site' | 'closed' | 'cancelled' | 'redirected_15';
export type DoctorStatus = 'off_duty' | 'available' | 'en_route' | 'on_site' | 'at_centre';

export interface Me {
  id: number;
  username: string;
  display_name: string;
  role: Role;
  institution_id: number | null;
  network_id: number | null;
  acts_for: number[];
}

export interface Address {
  line: string;
  postcode: string | null;
  city: string;
  details?: string | null;
  lat?: number | null;
  lon?: number | null;
}

export interface PatientSummary {
  id: number;
  birth_name: string;
  used_name: string | null;
  first_names: string;
  birth_date: string | null;
  sex: 'F' | 'M' | 'U';
}

export interface Visit {
  id: number;
  call_id: number;
  status: VisitStatus;
  urgency: number;
  motive: string;
  notes: string | null;
  source: string;
  caller_name: string | null;
  caller_phone: string | null;
  patient: PatientSummary;
  address: Address;
  institution_id: number | null;
  doctor: { id: number; name: string } | null;
  received_at: string;
  assigned_at: string | null;
  en_route_at: string | null;
  on_site_at: string | null;
  closed_at: string | null;
  updated_at: string;
  version: number;
  /** Auto-dispatch's proposal while the visit waits (mode « proposer »). */
  proposal?: { doctor_id: number; name: string; eta_min: number; at: string } | null;
}

export interface Doctor {
  id: number;
  name: string;
  rpps: string;
  phone: string | null;
  skills: string[];
  status: DoctorStatus;
  status_at: string;
  position: { lat: number; lon: number; at: string } | null;
  shift_ends_at: string | null;
  queue: number;
}

export interface Patient extends PatientSummary {
  birth_place_code: string | null;
  nir: string | null;
  address: Address | null;
  phone: string | null;
  treating_physician: { name: string; rpps?: string | null; mssante?: string | null } | null;
  institution_id: number | null;
}

export interface Sector {
  id: number;
  name: string;
  boundary: { type: string; coordinates: unknown };
}

export interface HubEvent {
  id: number;
  kind: string;
  data: any;
}
