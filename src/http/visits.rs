//! Visits and their lifecycle: the board's queue, a doctor's round, and each transition
//! (assign, en route, on site, close, cancel, redirect to the 15) with who made it.
//!
//! A transition is one conditional update (`WHERE status IN (allowed sources)`): when two
//! dispatchers assign the same visit at the same instant, exactly one update matches and the
//! other gets a 409.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::doctors::update_status;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiOptionalJson, ApiPath, ApiQuery};
use super::views::{visit_scope, visit_view, VisitRow, VisitView, VISIT_SELECT};
use super::AppState;
use crate::auth::Principal;
use crate::domain::{DoctorStatus, Role, Transition, VisitStatus};
use crate::store::{Audience, Ts, WriteTx};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_visits))
        .routes(routes!(get_visit))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(en_route))
        .routes(routes!(on_site))
        .routes(routes!(close))
        .routes(routes!(cancel))
        .routes(routes!(redirect_15))
}

/// Queues a `visit.*` event for everyone concerned: staff, the doctor (and `also`, a doctor it
/// was taken from), the requesting institution.
pub fn publish_visit(tx: &mut WriteTx, kind: &'static str, view: &VisitView, also: Option<i64>) {
    let payload = serde_json::to_value(view).unwrap_or_default();
    tx.publish(
        kind,
        payload.clone(),
        Audience {
            doctor_id: view.doctor.as_ref().map(|d| d.id),
            institution_id: view.institution_id,
            network_id: None,
        },
    );
    if let Some(previous) = also.filter(|p| Some(*p) != view.doctor.as_ref().map(|d| d.id)) {
        tx.publish(
            "visit.withdrawn",
            serde_json::json!({"id": view.id, "doctor_id": previous}),
            Audience {
                doctor_id: Some(previous),
                ..Default::default()
            },
        );
    }
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
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<VisitQuery>,
) -> ApiResult<Json<Vec<VisitView>>> {
    if who.role == Role::PartnerNurse {
        return Err(ApiError::forbidden(
            "partner nurses see their bookings, not the association's visits",
        ));
    }
    let mut conds = vec![
        visit_scope(&who, 1),
        "($2 IS NULL OR v.doctor_id = $2)".to_owned(),
    ];
    if let Some(list) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let mut parsed = Vec::new();
        for s in list.split(',') {
            let st: VisitStatus = s.trim().parse().map_err(|e: String| {
                ApiError::bad_request("invalid_query", e).with_field("status")
            })?;
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

pub(crate) async fn visible_visit(
    state: &AppState,
    who: &Principal,
    id: i64,
) -> ApiResult<VisitView> {
    let sql = format!(
        "{VISIT_SELECT} WHERE v.id = $2 AND ({})",
        visit_scope(who, 1)
    );
    let row: Option<VisitRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    row.map(VisitView::from)
        .ok_or_else(|| ApiError::not_found(format!("visit {id}")))
}

#[utoipa::path(get, path = "/visits/{id}", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = VisitDetail), (status = 404, body = ErrorBody)))]
async fn get_visit(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VisitDetail>> {
    let visit = visible_visit(&state, &who, id).await?;
    let history = sqlx::query_as(
        "SELECT t.from_status, t.to_status, t.doctor_id, t.at, t.actor_id, a.display_name AS actor_name, \
         t.on_behalf_of, b.display_name AS on_behalf_of_name, t.reason \
         FROM visit_transitions t JOIN users a ON a.id = t.actor_id LEFT JOIN users b ON b.id = t.on_behalf_of \
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
    pub reason: Option<String>,
}

/// Assign a received visit to a doctor (staff). Two dispatchers at once: one wins, one gets 409.
#[utoipa::path(post, path = "/visits/{id}/assign", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AssignRequest,
    responses((status = 200, body = VisitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<VisitView>> {
    transition(
        &state,
        &who,
        id,
        Transition::Assign,
        Some(req.doctor_id),
        None,
    )
    .await
}

macro_rules! transition_route {
    ($name:ident, $path:literal, $t:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "visits", security(("bearer" = [])),
            params(("id" = i64, Path)), request_body(content = Option<TransitionRequest>),
            responses((status = 200, body = VisitView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
        async fn $name(
            State(state): State<AppState>,
            who: Principal,
            ApiPath(id): ApiPath<i64>,
            ApiOptionalJson(body): ApiOptionalJson<TransitionRequest>,
        ) -> ApiResult<Json<VisitView>> {
            let reason = body.and_then(|b| b.reason);
            transition(&state, &who, id, $t, None, reason).await
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

/// Checks that `who` may make transition `t` on `visit`; returns the "on behalf of" to record.
fn authorize(who: &Principal, visit: &VisitView, t: Transition) -> ApiResult<Option<i64>> {
    let doctor = visit.doctor.as_ref().map(|d| d.id);
    let for_doctor = doctor.and_then(|d| who.acts_for_doctor(d));
    let ok = match t {
        Transition::Assign | Transition::Unassign => who.is_staff(),
        Transition::EnRoute | Transition::OnSite => who.is_staff() || for_doctor.is_some(),
        Transition::Close => for_doctor == Some(None),
        Transition::Redirect15 => who.is_staff() || for_doctor == Some(None),
        Transition::Cancel => {
            who.is_staff()
                || (who.role == Role::EhpadNurse
                    && matches!(visit.status, VisitStatus::Received | VisitStatus::Assigned))
        }
    };
    if ok {
        return Ok(for_doctor.flatten());
    }
    Err(ApiError::forbidden(match t {
        Transition::Close => "only the visit's doctor closes it: he validates what was done",
        Transition::Assign | Transition::Unassign => "only dispatchers assign visits",
        Transition::Cancel if who.role == Role::EhpadNurse => {
            "the doctor has set off: call the association to cancel"
        }
        _ => "you may not change this visit",
    }))
}

/// Which timestamp column a transition sets, besides `updated_at`.
fn stamp_column(t: Transition) -> Option<&'static str> {
    match t {
        Transition::Assign => Some("assigned_at"),
        Transition::Unassign => None,
        Transition::EnRoute => Some("en_route_at"),
        Transition::OnSite => Some("on_site_at"),
        Transition::Close => Some("closed_at"),
        Transition::Cancel => Some("cancelled_at"),
        Transition::Redirect15 => Some("redirected_at"),
    }
}

pub(crate) async fn transition(
    state: &AppState,
    who: &Principal,
    id: i64,
    t: Transition,
    doctor_id: Option<i64>,
    reason: Option<String>,
) -> ApiResult<Json<VisitView>> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::invalid(
            "reason",
            "a reason has at most 1000 characters",
        ));
    }
    let visit = visible_visit(state, who, id).await?;
    let on_behalf = authorize(who, &visit, t)?;
    if let Err(e) = t.apply(visit.status) {
        return Err(match (t, &visit.doctor) {
            (Transition::Assign, Some(d)) => {
                ApiError::conflict(format!("this visit is already assigned to {}", d.name))
                    .with_field("status")
            }
            _ => e.into(),
        });
    }

    if let Some(doctor) = doctor_id {
        let status: Option<DoctorStatus> = sqlx::query_scalar(
            "SELECT d.status FROM doctors d JOIN users u ON u.id = d.user_id WHERE d.user_id = $1 AND u.disabled_at IS NULL",
        )
        .bind(doctor)
        .fetch_optional(state.db.pool())
        .await?;
        match status {
            None => {
                return Err(ApiError::invalid(
                    "doctor_id",
                    format!("there is no doctor {doctor}"),
                ))
            }
            Some(DoctorStatus::OffDuty) => {
                return Err(ApiError::invalid("doctor_id", "this doctor is off duty"))
            }
            Some(_) => {}
        }
    }

    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let from: Vec<String> = t
        .from_states()
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let set_doctor = match t {
        Transition::Assign => "doctor_id = $5,",
        Transition::Unassign => "doctor_id = NULL, assigned_at = NULL, en_route_at = NULL,",
        _ => "",
    };
    let stamp = stamp_column(t)
        .map(|c| format!("{c} = $2,"))
        .unwrap_or_default();
    // The doctor must still be the one the caller saw: a visit reassigned meanwhile does not move.
    let sql = format!(
        "UPDATE visits SET status = $1, {set_doctor} {stamp} updated_at = $2, version = version + 1 \
         WHERE id = $3 AND status IN ({from}) AND (doctor_id = $4 OR (doctor_id IS NULL AND $4 IS NULL))",
        from = from.join(", "),
    );
    let mut update = sqlx::query(&sql)
        .bind(t.to_state())
        .bind(now)
        .bind(id)
        .bind(visit.doctor.as_ref().map(|d| d.id));
    if t == Transition::Assign {
        update = update.bind(doctor_id);
    }
    let done = update.execute(tx.conn()).await?;
    if done.rows_affected() == 0 {
        drop(tx);
        let now_visit = visible_visit(state, who, id).await?;
        let msg = match (t, &now_visit.doctor) {
            (Transition::Assign, Some(d)) => {
                format!("this visit is already assigned to {}", d.name)
            }
            _ => format!(
                "this visit changed meanwhile: it is now {}",
                now_visit.status
            ),
        };
        return Err(ApiError::conflict(msg).with_field("status"));
    }
    let new_doctor = match t {
        Transition::Assign => doctor_id,
        Transition::Unassign => None,
        _ => visit.doctor.as_ref().map(|d| d.id),
    };
    sqlx::query(
        "INSERT INTO visit_transitions (visit_id, from_status, to_status, doctor_id, at, actor_id, on_behalf_of, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(visit.status)
    .bind(t.to_state())
    .bind(new_doctor)
    .bind(now)
    .bind(who.user_id)
    .bind(on_behalf)
    .bind(&reason)
    .execute(tx.conn())
    .await?;
    tx.audit(
        &format!("visit.{}", t.as_str()),
        "visit",
        id,
        serde_json::json!({
            "status": [visit.status, t.to_state()],
            "doctor_id": [visit.doctor.as_ref().map(|d| d.id), new_doctor],
            "reason": reason,
        }),
    )
    .await?;
    // The doctor's own status follows his visits.
    if let Some(d) = new_doctor {
        let follow = match t {
            Transition::EnRoute => Some(DoctorStatus::EnRoute),
            Transition::OnSite => Some(DoctorStatus::OnSite),
            Transition::Close | Transition::Cancel | Transition::Redirect15
                if matches!(visit.status, VisitStatus::EnRoute | VisitStatus::OnSite) =>
            {
                Some(DoctorStatus::Available)
            }
            _ => None,
        };
        if let Some(s) = follow {
            update_status(&mut tx, d, s).await?;
        }
    }
    if t == Transition::Unassign && visit.status == VisitStatus::EnRoute {
        if let Some(prev) = visit.doctor.as_ref() {
            update_status(&mut tx, prev.id, DoctorStatus::Available).await?;
        }
    }
    let view = visit_view(tx.conn(), id)
        .await?
        .ok_or_else(ApiError::internal)?;
    let kind = match t {
        Transition::Assign => "visit.assigned",
        Transition::Unassign => "visit.unassigned",
        _ => "visit.status",
    };
    publish_visit(&mut tx, kind, &view, visit.doctor.as_ref().map(|d| d.id));
    tx.commit().await?;
    Ok(Json(view))
}
