//! Visits and their lifecycle: the board's queue, a doctor's round, and each transition
//! (assign, en route, on site, close, cancel, redirect to the 15) with who made it.
//!
//! A transition is one conditional update (`WHERE status IN (allowed sources)`): when two
//! dispatchers assign the same visit at the same instant, exactly one update matches and the
//! other gets a 409.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::{idempotency_key, ApiJson, ApiOptionalJson, ApiPath, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::domain::{Role, Transition, VisitStatus};
use crate::services::views::{visit_scope, VisitRow, VisitView, VISIT_SELECT};
use crate::services::visits::{
    edit, mark_seen, transition, transition_with, visible_visit, Step, VisitEdit,
};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_visits))
        .routes(routes!(get_visit, edit_visit))
        .routes(routes!(assign))
        .routes(routes!(reassign))
        .routes(routes!(unassign))
        .routes(routes!(en_route))
        .routes(routes!(on_site))
        .routes(routes!(close))
        .routes(routes!(cancel))
        .routes(routes!(redirect_15))
        .routes(routes!(seen))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VisitQuery {
    /// Comma-separated statuses, e.g. `received,assigned`.
    pub status: Option<String>,
    /// true: only visits not yet closed, cancelled or redirected, most urgent and oldest first.
    pub open: Option<bool>,
    pub doctor_id: Option<i64>,
    /// At most this many (default 200, at most 1000).
    pub limit: Option<i64>,
}

/// Visits you may see: all for staff, his own for a doctor (and his assistants), the
/// institution's requests for an EHPAD nurse.
#[utoipa::path(get, path = "/visits", tag = "visits", security(("bearer" = [])),
    params(VisitQuery),
    responses((status = 200, body = Vec<VisitView>), (status = 400, body = ErrorBody)))]
async fn list_visits(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<VisitQuery>,
) -> Result<Json<Vec<VisitView>>> {
    if who.role == Role::PartnerNurse {
        return Err(Error::forbidden(
            "partner nurses see their bookings, not the association's visits",
        ));
    }
    let mut conds = vec![
        visit_scope(&who, 1),
        "(v.doctor_id = $2 OR $2 IS NULL)".to_owned(),
    ];
    if let Some(list) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let mut parsed = Vec::new();
        for s in list.split(',') {
            let st: VisitStatus = s
                .trim()
                .parse()
                .map_err(|e: String| Error::bad_request("invalid_query", e).with_field("status"))?;
            parsed.push(format!("'{}'", st.as_str()));
        }
        conds.push(format!("v.status IN ({})", parsed.join(", ")));
    }
    let open = q.open.unwrap_or(false);
    if open {
        conds.push("v.status IN ('received', 'assigned', 'en_route', 'on_site')".to_owned());
    }
    let order = if open {
        "v.urgency, c.received_at, v.id"
    } else {
        "c.received_at DESC, v.id DESC"
    };
    let sql = format!(
        "{VISIT_SELECT} WHERE {} ORDER BY {order} LIMIT $3",
        conds.join(" AND ")
    );
    let rows: Vec<VisitRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(q.doctor_id)
        .bind(q.limit.unwrap_or(200).clamp(1, 1000))
        .fetch_all(state.db.pool())
        .await?;
    Ok(Json(rows.into_iter().map(VisitView::from).collect()))
}

/// One step of a visit's history.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct TransitionView {
    pub from_status: Option<VisitStatus>,
    pub to_status: VisitStatus,
    pub doctor_id: Option<i64>,
    pub doctor_name: Option<String>,
    pub at: Ts,
    pub actor_id: i64,
    pub actor_name: String,
    pub on_behalf_of: Option<i64>,
    pub on_behalf_of_name: Option<String>,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitDetail {
    #[serde(flatten)]
    pub visit: VisitView,
    /// Every transition, oldest first, with who made it and for whom.
    pub history: Vec<TransitionView>,
}

#[utoipa::path(get, path = "/visits/{id}", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = VisitDetail), (status = 404, body = ErrorBody)))]
async fn get_visit(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<VisitDetail>> {
    let visit = visible_visit(&state.db, &who, id).await?;
    let history = sqlx::query_as(
        "SELECT t.from_status, t.to_status, t.doctor_id, d.display_name AS doctor_name, t.at, t.actor_id, \
         a.display_name AS actor_name, t.on_behalf_of, b.display_name AS on_behalf_of_name, t.reason \
         FROM visit_transitions t JOIN users a ON a.id = t.actor_id LEFT JOIN users b ON b.id = t.on_behalf_of \
         LEFT JOIN users d ON d.id = t.doctor_id \
         WHERE t.visit_id = $1 ORDER BY t.id",
    )
    .bind(id)
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(VisitDetail { visit, history }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub doctor_id: i64,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Why (cancelling, redirecting, unassigning): kept in the visit's history.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
    /// When it happened, for a step the doctor's phone made offline and replays (setting off,
    /// arriving): at most 12 hours ago; never recorded before the visit's previous step.
    #[serde(default)]
    pub at: Option<Ts>,
}

/// Assign a received visit to a doctor (staff). Two dispatchers at once: one wins, one gets 409.
#[utoipa::path(post, path = "/visits/{id}/assign", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AssignRequest,
    responses((status = 200, body = VisitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> Result<Json<VisitView>> {
    transition(
        &state.db,
        &who,
        id,
        Transition::Assign,
        Some(req.doctor_id),
        None,
    )
    .await
    .map(Json)
}

/// Re-triage an open visit (staff): urgency, motive, notes, address. Each change is audited with
/// before and after and reaches the boards and the doctor's phone at once (`visit.updated`).
#[utoipa::path(patch, path = "/visits/{id}", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VisitEdit,
    responses((status = 200, body = VisitView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn edit_visit(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<VisitEdit>,
) -> Result<Json<VisitView>> {
    let sectors = state.sectors.map(&state.db).await?;
    edit(&state.db, &sectors, &who, id, change).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    pub doctor_id: i64,
    /// Why (kept in the visit's history): "plus proche", "Dr X retenu sur une visite".
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Give an assigned visit to another doctor in one step (staff), also after the first one set
/// off: he is told it was taken back, the new one's phone rings.
#[utoipa::path(post, path = "/visits/{id}/reassign", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ReassignRequest,
    responses((status = 200, body = VisitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reassign(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReassignRequest>,
) -> Result<Json<VisitView>> {
    transition(
        &state.db,
        &who,
        id,
        Transition::Reassign,
        Some(req.doctor_id),
        req.reason,
    )
    .await
    .map(Json)
}

macro_rules! transition_route {
    ($name:ident, $path:literal, $t:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "visits", security(("bearer" = [])),
            params(("id" = i64, Path),
                ("Idempotency-Key" = Option<String>, Header, description = "made once per step; a replay with it (a phone back online) gets the visit as it is")),
            request_body(content = Option<TransitionRequest>),
            responses((status = 200, body = VisitView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
        async fn $name(
            State(state): State<Hub>,
            who: Principal,
            ApiPath(id): ApiPath<i64>,
            headers: HeaderMap,
            ApiOptionalJson(body): ApiOptionalJson<TransitionRequest>,
        ) -> Result<Json<VisitView>> {
            let key = match headers.contains_key("idempotency-key") {
                true => Some(idempotency_key(&headers)?),
                false => None,
            };
            let body = body.unwrap_or_default();
            let step = Step { reason: body.reason, at: body.at, key };
            transition_with(&state.db, &who, id, $t, None, step).await.map(Json)
        }
    };
}

transition_route!(
    unassign,
    "/visits/{id}/unassign",
    Transition::Unassign,
    "Take a visit back from its doctor, to assign it again (staff)."
);
transition_route!(
    en_route,
    "/visits/{id}/en-route",
    Transition::EnRoute,
    "The doctor sets off (the doctor, his assistant, or staff)."
);
transition_route!(
    on_site,
    "/visits/{id}/on-site",
    Transition::OnSite,
    "The doctor is with the patient (the doctor, his assistant, or staff)."
);
transition_route!(
    close,
    "/visits/{id}/close",
    Transition::Close,
    "Close the visit (the doctor himself: he validates)."
);
transition_route!(
    cancel,
    "/visits/{id}/cancel",
    Transition::Cancel,
    "Cancel the visit (staff; the requesting EHPAD before the doctor sets off)."
);
transition_route!(
    redirect_15,
    "/visits/{id}/redirect-15",
    Transition::Redirect15,
    "Hand the case over to the 15 (staff, or the doctor)."
);

/// The doctor acknowledges a visit given to him (« Vu »): the dispatcher sees when. Setting off
/// or arriving counts as seen too. Again, the first time stays.
#[utoipa::path(post, path = "/visits/{id}/seen", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = VisitView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn seen(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<VisitView>> {
    mark_seen(&state.db, &who, id).await.map(Json)
}
