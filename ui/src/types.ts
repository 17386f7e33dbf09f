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

// --- Partner nurses (#7) -------------------------------------------------------------------------

/** A nursing act a partner nurse can be asked for (`GET /nurse-acts`); `label` is French. */
export interface NurseAct {
  code: string;
  label: string;
}

/** Where a network or a nurse works: anywhere (null), some postcodes, or a circle. */
export type NurseArea = null | { postcodes: string[] } | { lat: number; lon: number; radius_km: number };

/** A nurse network this association books through (the key itself is never returned). */
export interface PartnerNetwork {
  id: number;
  name: string;
  base_url: string;
  acts: string[];
  area: NurseArea;
  priority: number;
  active: boolean;
  has_api_key: boolean;
  created_at: string;
}

/** The body of `POST /partner-networks` and `PUT /partner-networks/{id}` (api_key kept when absent on PUT). */
export interface PartnerNetworkInput {
  name: string;
  base_url: string;
  api_key?: string;
  acts: string[];
  area: NurseArea;
  priority?: number;
  active?: boolean;
}

export interface Named {
  id: number;
  name: string;
}

export type NurseBookingStatus = 'requested' | 'accepted' | 'proposed' | 'declined' | 'done' | 'cancelled';
/** Where the request is in the link with the network (null once settled). */
export type NurseDelivery = 'sending' | 'held' | 'waiting' | 'cancelling' | null;
export type NetworkOutcome = 'declined' | 'no_answer' | 'unreachable' | 'refused_proposal' | 'not_covered' | 'refused';

/** A request for a partner nurse, made from a visit. */
export interface NurseBooking {
  id: number;
  uuid: string;
  visit_id: number;
  doctor_id: number;
  act: string;
  act_label: string;
  window_start: string;
  window_end: string;
  notes: string | null;
  status: NurseBookingStatus;
  delivery: NurseDelivery;
  network: Named | null;
  networks_tried: (Named & { outcome: NetworkOutcome })[];
  nurse_name: string | null;
  expected_at: string | null;
  proposed_at: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  requested_by: Named;
  on_behalf_of: Named | null;
  created_at: string;
  updated_at: string;
}

/** The body of `POST /visits/{id}/nurse-bookings`: patient, address and prescriber come from the visit. */
export interface NurseBookingRequest {
  act: string;
  window_minutes: number;
  notes?: string;
  callback_phone?: string;
}

/** A nurse network this hub hosts (its nurses are `partner_nurse` accounts). */
export interface NurseNetwork {
  id: number;
  name: string;
  phone: string | null;
}

/** An association allowed to send requests to a hosted network. */
export interface PartnerClient {
  id: number;
  name: string;
  network_id: number;
  created_at: string;
  revoked_at: string | null;
}

/** As created: the API key is shown this once. */
export interface NewPartnerClient extends PartnerClient {
  api_key: string;
}

/** What a partner nurse does and where, and whether she takes requests now. */
export interface NurseCoverage {
  acts: string[];
  area: NurseArea;
  on_duty: boolean;
}

export type NurseOfferStatus = 'offered' | 'accepted' | 'proposed' | 'taken' | 'done' | 'cancelled' | 'declined';

/** A request as the partner nurse sees it; the patient only once it is hers. */
export interface NurseOffer {
  id: number;
  act: string;
  act_label: string;
  window_start: string;
  window_end: string;
  city: string;
  postcode: string | null;
  client_name: string;
  status: NurseOfferStatus;
  mine: boolean;
  expected_at: string | null;
  proposed_at: string | null;
  created_at: string;
  /** `address` is read as the hub gives it: one line of text, or an address object. */
  patient?: { name: string; birth_date: string | null; phone: string | null; address: string | Address | null } | null;
  prescriber?: { name: string; rpps: string | null; phone: string | null } | null;
  notes?: string | null;
}
