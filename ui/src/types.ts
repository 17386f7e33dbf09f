// Shapes of the hub's JSON, from the OpenAPI document (`src/api-schema.ts` is generated from
// `openapi.json` by openapi-typescript at build time; a hub test keeps the snapshot current).
// Only what the document cannot say is refined here, and each refinement says why.

import type { components } from './api-schema';

type Schemas = components['schemas'];

/**
 * An answer's shape: the hub sends every field, null when empty, where the document (utoipa)
 * marks a Rust `Option` as optional.
 */
type Sent<T> = T extends (infer U)[]
  ? Sent<U>[]
  : T extends object
    ? { [K in keyof T]-?: Sent<Exclude<T[K], undefined>> }
    : T;

export type Role = Schemas['Role'];
export type VisitStatus = Schemas['VisitStatus'];
export type DoctorStatus = Schemas['DoctorStatus'];
export type Me = Sent<Schemas['Me']>;
export type Address = Schemas['Address'];
export type PatientSummary = Sent<Schemas['PatientSummary']>;
export type Visit = Sent<Schemas['VisitView']>;
export type Doctor = Sent<Schemas['DoctorView']>;
export type Patient = Sent<Schemas['PatientView']>;
/** `boundary` is a GeoJSON geometry, which the document gives as a plain object. */
export type Sector = Omit<Sent<Schemas['SectorView']>, 'boundary'> & { boundary: { type: string; coordinates: unknown } };
export type Named = Schemas['Named'];

/** One event of the live stream (not described by OpenAPI: see store/events.rs). */
export interface HubEvent {
  id: number;
  kind: string;
  data: any;
}

// --- Partner nurses (#7) -------------------------------------------------------------------------

/** A nursing act a partner nurse can be asked for (`GET /nurse-acts`); `label` is French. */
export type NurseAct = Schemas['Act'];

/** Where a network or a nurse works: anywhere (null), some postcodes, or a circle. */
export type NurseArea = Schemas['Area'] | null;

/** A nurse network this association books through (the key itself is never returned). */
export type PartnerNetwork = Sent<Schemas['PartnerNetwork']>;

/** The body of `POST /partner-networks` and `PUT /partner-networks/{id}` (api_key kept when absent on PUT). */
export type PartnerNetworkInput = Schemas['NetworkInput'];

export type NurseBookingStatus = Schemas['NurseBookingStatus'];
/** Where the request is in the link with the network (null once settled); the document says "string". */
export type NurseDelivery = 'sending' | 'held' | 'waiting' | 'cancelling' | null;
/** Why a network did not take the booking; the document says "string". */
export type NetworkOutcome = 'declined' | 'no_answer' | 'unreachable' | 'refused_proposal' | 'not_covered' | 'refused';

/** A request for a partner nurse, made from a visit. */
export type NurseBooking = Omit<Sent<Schemas['NurseBookingView']>, 'delivery' | 'networks_tried'> & {
  delivery: NurseDelivery;
  networks_tried: (Named & { outcome: NetworkOutcome })[];
};

/** The body of `POST /visits/{id}/nurse-bookings`: patient, address and prescriber come from the visit. */
export type NurseBookingRequest = Schemas['BookingInput'];

/** A nurse network this hub hosts (its nurses are `partner_nurse` accounts). */
export type NurseNetwork = Sent<Schemas['NurseNetwork']>;

/** An association allowed to send requests to a hosted network. */
export type PartnerClient = Sent<Schemas['PartnerClient']>;

/** As created: the API key is shown this once. */
export type NewPartnerClient = PartnerClient & Sent<Schemas['NewClientKey']>;

/** What a partner nurse does and where, and whether she takes requests now. */
export type NurseCoverage = Sent<Schemas['CoverageView']>;

export type NurseOfferStatus = 'offered' | 'accepted' | 'proposed' | 'taken' | 'done' | 'cancelled' | 'declined';

/**
 * A request as the partner nurse sees it; the patient only once it is hers. The document gives
 * `status` as a string and `patient`/`prescriber` as plain objects.
 */
export type NurseOffer = Omit<Sent<Schemas['NurseOffer']>, 'status' | 'patient' | 'prescriber'> & {
  status: NurseOfferStatus;
  /** `address` is read as the hub gives it: one line of text, or an address object. */
  patient?: { name: string; birth_date: string | null; phone: string | null; address: string | Address | null } | null;
  prescriber?: { name: string; rpps: string | null; phone: string | null } | null;
};

// --- One's own account (#14) -----------------------------------------------------------------

export type Delegation = Sent<Schemas['DelegationView']>;
export type SessionInfo = Sent<Schemas['SessionView']>;
export type Enrolment = Schemas['Enrolment'];
export type SecondFactor = Schemas['SecondFactor'];

// --- The call centre's day (#16) -------------------------------------------------------------

export type CallOutcome = Schemas['CallOutcome'];
/** A call of the journal, whatever its outcome (its visit, if it opened one). */
export type Call = Sent<Schemas['CallView']>;
export type Shift = Sent<Schemas['ShiftView']>;
export type RosterChange = Sent<Schemas['RosterChange']>;

/** One hit of the address search (`GET /addresses`), as the intake and the re-triage offer it. */
export interface AddressHit {
  label: string;
  housenumber: string | null;
  street: string;
  postcode: string;
  city: string;
  lat: number;
  lon: number;
}
