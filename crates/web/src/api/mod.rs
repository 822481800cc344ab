//! The JSON API v1: names fixed by DESIGN.md §5, errors `{"error": {code, message}}`,
//! lists `{"items", "total"}`, OpenAPI generated from these handlers.

pub mod analysis;
pub mod appraisals;
pub mod articles;
pub mod assessments;
pub mod attachments;
pub mod audit;
pub mod contacts;
pub mod customers;
pub mod daily;
pub mod defective;
pub mod equipment;
pub mod handoffs;
pub mod health;
pub mod home;
pub mod import;
pub mod inspections;
pub mod mail;
pub mod meetings;
pub mod parts;
pub mod phrases;
pub mod requisitions;
pub mod robots;
pub mod roster;
pub mod search;
pub mod session;
pub mod shortages;
pub mod stock_reports;
pub mod taxonomy;
pub mod tickets;
pub mod trainings;
pub mod trips;
pub mod users;
pub mod work_plan;

use crate::AppState;
use crate::auth::anonymous_tr;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

/// An unknown path under `/api/v1`: a JSON 404 in the error shape, never the HTML page.
async fn api_not_found(headers: axum::http::HeaderMap) -> ApiError {
    ApiError::from_service(anonymous_tr(&headers), aftercare_service::ServiceError::NotFound)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .fallback(api_not_found)
        .route("/session", post(session::api_session_create).delete(session::api_session_delete))
        .route("/me", get(session::api_me_get))
        .route("/users", get(users::api_users_list).post(users::api_users_create))
        .route("/users/{id}", get(users::api_users_get).patch(users::api_users_update))
        .route("/customers", get(customers::api_customers_list).post(customers::api_customers_create))
        .route("/customers/export", get(import::api_customers_export))
        .route("/customers/{id}", get(customers::api_customers_get).put(customers::api_customers_update))
        .route("/equipment", get(equipment::api_equipment_list).post(equipment::api_equipment_create))
        .route("/equipment/export", get(import::api_equipment_export))
        .route("/equipment/{id}", get(equipment::api_equipment_get).put(equipment::api_equipment_update))
        .route("/equipment/{id}/history", get(equipment::api_equipment_history))
        .route("/import", post(import::api_import))
        .route("/import/template", get(import::api_import_template))
        .route("/search", get(search::api_search))
        .route("/home", get(home::api_home))
        .route("/audit", get(audit::api_audit_list))
        .route("/tickets", get(tickets::api_tickets_list).post(tickets::api_tickets_create))
        .route("/tickets/{id}", get(tickets::api_tickets_get))
        .route("/tickets/{id}/actions/{action}", post(tickets::api_tickets_action))
        .route("/tickets/{id}/timeline", get(tickets::api_tickets_timeline))
        .route("/tickets/{id}/visits", post(tickets::api_tickets_visit))
        .route("/tickets/{id}/comments", post(tickets::api_tickets_comment))
        .route("/tickets/{id}/escalation-request", post(tickets::api_tickets_escalation_request))
        .route("/tickets/{id}/callback-attempts", post(tickets::api_tickets_callback_attempt))
        .route("/visits/{id}/signature.png", get(tickets::api_visit_signature))
        .route(
            "/tickets/{id}/attachments",
            get(attachments::api_attachments_list).post(attachments::api_attachments_create),
        )
        .route("/tickets/{id}/attachments/{attachment_id}", get(attachments::api_attachments_get))
        .route("/penalties", get(assessments::api_penalties_list))
        .route("/penalties/{id}/review", post(assessments::api_penalties_review))
        .route("/scorecards", get(assessments::api_scorecards))
        .route("/sla-policies", get(assessments::api_sla_list))
        .route("/sla-policies/{priority}", axum::routing::put(assessments::api_sla_set))
        .route("/settings/sla-calendar", get(assessments::api_sla_calendar_get).put(assessments::api_sla_calendar_set))
        .route("/settings/write-limits", get(assessments::api_write_limits_get).put(assessments::api_write_limits_set))
        .route("/fault-subcategories", get(assessments::api_subcategories).post(taxonomy::api_subcategory_create))
        .route("/fault-subcategories/{code}", axum::routing::put(taxonomy::api_subcategory_update))
        .route("/notifications", get(assessments::api_notifications))
        .route("/notifications/read", post(assessments::api_notifications_read))
        .route("/contacts", get(contacts::api_contacts_list).post(contacts::api_contacts_create))
        .route("/contacts/{id}", get(contacts::api_contacts_get).patch(contacts::api_contacts_update))
        .route("/contacts/{id}/review", post(contacts::api_contacts_review))
        .route("/contacts/{id}/callback", post(contacts::api_contacts_callback))
        .route("/contacts/{id}/read", post(contacts::api_contacts_read))
        .route("/desk/lookup", get(contacts::api_desk_lookup))
        .route("/telephony/calls", post(contacts::api_telephony_call))
        .route("/roster", get(roster::api_roster_list).post(roster::api_roster_create))
        .route("/roster/now", get(roster::api_roster_now))
        .route("/roster/people", get(roster::api_roster_people))
        .route("/roster/copy", post(roster::api_roster_copy))
        .route("/roster/{id}", axum::routing::delete(roster::api_roster_delete))
        .route("/settings/working-hours", get(roster::api_working_hours_get).put(roster::api_working_hours_put))
        .route("/phrases", get(phrases::api_phrases_list).post(phrases::api_phrases_create))
        .route("/phrases/{id}", axum::routing::patch(phrases::api_phrases_update))
        .route("/contacts/daily", get(daily::api_contacts_daily))
        .route("/contacts/{id}/mail-attachments", get(mail::api_contact_mail_attachments))
        .route("/mail/attachments/{id}", get(mail::api_mail_attachment_get))
        .route("/mail/messages", get(mail::api_mail_messages))
        .route("/mail/messages/{id}/raw", get(mail::api_mail_message_raw))
        .route("/parts", get(parts::api_parts_list).post(parts::api_parts_create))
        .route("/parts/{id}", get(parts::api_parts_get).patch(parts::api_parts_update))
        .route("/warehouses", get(parts::api_warehouses_list).post(parts::api_warehouses_create))
        .route("/warehouses/{id}", get(parts::api_warehouses_get).patch(parts::api_warehouses_update))
        .route("/stock", get(parts::api_stock_list))
        .route("/stock/movements", get(parts::api_movements_list).post(parts::api_movements_create))
        .route("/stock/defective/dispose", post(defective::api_defective_dispose))
        .route("/requisitions", get(requisitions::api_requisitions_list).post(requisitions::api_requisitions_create))
        .route("/requisitions/{id}", get(requisitions::api_requisitions_get))
        .route("/requisitions/{id}/actions/{action}", post(requisitions::api_requisitions_action))
        .route("/stock/quotas", axum::routing::put(shortages::api_quota_set))
        .route("/stock/shortages", get(shortages::api_shortages_list))
        .route("/stock/shortages/{id}/acknowledge", post(shortages::api_shortage_acknowledge))
        .route("/stock/purchase-suggestions", get(shortages::api_purchase_suggestions))
        .route("/stock/valuation", get(stock_reports::api_stock_valuation))
        .route("/stock/quality", get(stock_reports::api_stock_quality))
        .route("/stock/counts", post(stock_reports::api_stock_counts))
        .route("/parts/export", get(stock_reports::api_parts_export))
        .route("/parts/import", post(stock_reports::api_parts_import))
        .route("/tickets/{id}/agreed-visit", post(handoffs::api_tickets_agreed_visit))
        .route("/visits/{id}/review", post(handoffs::api_visits_review))
        .route("/contacts/{id}/engineer-reply", post(handoffs::api_contacts_engineer_reply))
        .route("/equipment/{id}/suggestions", post(handoffs::api_equipment_suggest))
        .route("/suggestions", get(handoffs::api_suggestions_list))
        .route("/suggestions/{id}/decision", post(handoffs::api_suggestions_decide))
        .route("/robots", get(robots::api_robots_list).post(robots::api_robots_create))
        .route("/robots/{id}", axum::routing::delete(robots::api_robots_delete))
        .route("/settings/public-url", axum::routing::put(robots::api_public_url_set))
        .route("/inspections", get(inspections::api_inspections_list).post(inspections::api_inspections_create))
        .route("/inspections/plan", post(inspections::api_inspections_plan))
        .route("/inspections/report", get(inspections::api_inspections_report))
        .route("/inspections/checklist", get(inspections::api_checklist_list).post(inspections::api_checklist_create))
        .route("/inspections/checklist/{id}", axum::routing::put(inspections::api_checklist_update))
        .route("/inspections/photos/{id}", get(inspections::api_inspection_photo_get))
        .route("/inspections/{id}", get(inspections::api_inspections_get))
        .route("/inspections/{id}/results", post(inspections::api_inspections_results))
        .route("/inspections/{id}/actions/{action}", post(inspections::api_inspections_action))
        .route("/inspections/{id}/questions", post(inspections::api_inspections_question))
        .route("/inspections/{id}/photos", post(inspections::api_inspections_photo))
        .route("/inspections/{id}/signature.png", get(inspections::api_inspection_signature))
        .route("/inspections/{id}/callback", post(inspections::api_inspections_callback))
        .route("/settings/inspections", get(inspections::api_plan_settings_get).put(inspections::api_plan_settings_put))
        .route("/vehicles", get(trips::api_vehicles_list).post(trips::api_vehicles_create))
        .route("/vehicles/towns", get(trips::api_towns_get).put(trips::api_towns_put))
        .route("/vehicles/{id}", axum::routing::put(trips::api_vehicles_update))
        .route("/trips", get(trips::api_trips_list).post(trips::api_trips_create))
        .route("/trips/proposal", get(trips::api_trips_proposal))
        .route("/trips/report", get(trips::api_trips_report))
        .route("/trips/photos/{id}", get(trips::api_trips_photo_get))
        .route("/trips/{id}", get(trips::api_trips_get))
        .route("/trips/{id}/actions/{action}", post(trips::api_trips_action))
        .route("/trips/{id}/stops/{stop_id}/{action}", post(trips::api_trips_stop))
        .route("/trips/{id}/items", post(trips::api_trips_item_add))
        .route("/trips/{id}/items/{item_id}", post(trips::api_trips_item_tick))
        .route("/trips/{id}/photos", post(trips::api_trips_photo))
        .route("/analysis/faults", get(analysis::api_analysis_faults))
        .route("/analysis/hotspots", get(analysis::api_analysis_hotspots))
        .route("/analysis/kpis", get(analysis::api_analysis_kpis))
        .route("/analysis/people/{id}", get(analysis::api_analysis_person))
        .route("/rectifications", get(analysis::api_rectifications_list).post(analysis::api_rectifications_create))
        .route("/rectifications/{id}", get(analysis::api_rectifications_get))
        .route("/rectifications/{id}/actions/{action}", post(analysis::api_rectifications_action))
        .route("/meetings", get(meetings::api_meetings_list).post(meetings::api_meetings_create))
        .route("/meetings/{id}", get(meetings::api_meetings_get))
        .route("/meetings/{id}/agenda", post(meetings::api_meetings_agenda))
        .route("/meetings/{id}/agenda/order", post(meetings::api_meetings_order))
        .route("/meetings/{id}/actions/{action}", post(meetings::api_meetings_action))
        .route("/appraisals", get(appraisals::api_appraisals_list).post(appraisals::api_appraisals_create))
        .route(
            "/appraisals/weights",
            get(appraisals::api_appraisal_weights_get).put(appraisals::api_appraisal_weights_put),
        )
        .route("/appraisals/{id}", get(appraisals::api_appraisals_get))
        .route("/appraisals/{id}/decide", post(appraisals::api_appraisals_decide))
        .route("/study-plans", get(appraisals::api_study_plans_list).post(appraisals::api_study_plans_create))
        .route("/articles", get(articles::api_articles_list).post(articles::api_articles_create))
        .route("/articles/{id}", get(articles::api_articles_get).put(articles::api_articles_update))
        .route("/articles/{id}/actions/{action}", post(articles::api_articles_action))
        .route("/tickets/{id}/articles", get(articles::api_ticket_articles))
        .route("/trainings", get(trainings::api_trainings_list).post(trainings::api_trainings_create))
        .route("/trainings/coverage", get(trainings::api_trainings_coverage))
        .route("/trainings/materials/{id}", get(trainings::api_trainings_material_get))
        .route("/trainings/{id}", get(trainings::api_trainings_get))
        .route("/trainings/{id}/attendance", post(trainings::api_trainings_attendance))
        .route("/trainings/{id}/materials", post(trainings::api_trainings_material_add))
        .route("/trainings/{id}/actions/{action}", post(trainings::api_trainings_action))
        .route("/work-plan", get(work_plan::api_work_plan_get))
        .route("/work-plan/items", post(work_plan::api_work_plan_item_add))
        .route("/work-plan/items/{id}", post(work_plan::api_work_plan_item_update))
        .route("/work-plan/publish", post(work_plan::api_work_plan_publish))
        .route("/attendance", get(trips::api_attendance))
        .route("/attendance/absences", post(trips::api_absence_set))
        .route("/hazards", get(inspections::api_hazards_list))
        .route("/hazards/{id}/resolve", post(inspections::api_hazards_resolve))
        .route("/openapi.json", get(openapi_json))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Aftercare API", version = "1", description = "售后服务管理系统 — JSON API v1. Sign in with POST /api/v1/session, then send `Authorization: Bearer <token>`."),
    paths(
        session::api_session_create, session::api_session_delete, session::api_me_get,
        users::api_users_list, users::api_users_create, users::api_users_get, users::api_users_update,
        customers::api_customers_list, customers::api_customers_create, customers::api_customers_get, customers::api_customers_update,
        equipment::api_equipment_list, equipment::api_equipment_create, equipment::api_equipment_get, equipment::api_equipment_update,
        equipment::api_equipment_history,
        import::api_import, import::api_import_template, import::api_customers_export, import::api_equipment_export,
        search::api_search, home::api_home, audit::api_audit_list, health::healthz,
        tickets::api_tickets_list, tickets::api_tickets_create, tickets::api_tickets_get, tickets::api_tickets_action,
        tickets::api_tickets_timeline, tickets::api_tickets_visit, tickets::api_visit_signature, tickets::api_tickets_comment,
        tickets::api_tickets_callback_attempt, tickets::api_tickets_escalation_request,
        attachments::api_attachments_list, attachments::api_attachments_create, attachments::api_attachments_get,
        assessments::api_penalties_list, assessments::api_penalties_review, assessments::api_scorecards, assessments::api_sla_list,
        assessments::api_sla_set, assessments::api_sla_calendar_get, assessments::api_sla_calendar_set, assessments::api_write_limits_get, assessments::api_write_limits_set, assessments::api_subcategories, assessments::api_notifications, assessments::api_notifications_read,
        taxonomy::api_subcategory_create, taxonomy::api_subcategory_update,
        contacts::api_contacts_list, contacts::api_contacts_create, contacts::api_contacts_get, contacts::api_contacts_update,
        contacts::api_contacts_review, contacts::api_contacts_callback, contacts::api_contacts_read, contacts::api_desk_lookup,
        contacts::api_telephony_call,
        roster::api_roster_list, roster::api_roster_create, roster::api_roster_delete, roster::api_roster_now,
        roster::api_roster_people, roster::api_roster_copy, roster::api_working_hours_get, roster::api_working_hours_put,
        phrases::api_phrases_list, phrases::api_phrases_create, phrases::api_phrases_update,
        daily::api_contacts_daily,
        mail::api_contact_mail_attachments, mail::api_mail_attachment_get, mail::api_mail_messages, mail::api_mail_message_raw,
        parts::api_parts_list, parts::api_parts_create, parts::api_parts_get, parts::api_parts_update,
        parts::api_warehouses_list, parts::api_warehouses_create, parts::api_warehouses_get, parts::api_warehouses_update,
        parts::api_stock_list, parts::api_movements_list, parts::api_movements_create,
        defective::api_defective_dispose,
        requisitions::api_requisitions_list, requisitions::api_requisitions_create, requisitions::api_requisitions_get, requisitions::api_requisitions_action,
        shortages::api_quota_set, shortages::api_shortages_list, shortages::api_shortage_acknowledge,
        shortages::api_purchase_suggestions,
        stock_reports::api_stock_valuation, stock_reports::api_stock_quality, stock_reports::api_stock_counts,
        stock_reports::api_parts_export, stock_reports::api_parts_import,
        handoffs::api_tickets_agreed_visit, handoffs::api_visits_review, handoffs::api_contacts_engineer_reply,
        handoffs::api_equipment_suggest, handoffs::api_suggestions_list, handoffs::api_suggestions_decide,
        robots::api_robots_list, robots::api_robots_create, robots::api_robots_delete, robots::api_public_url_set,
        inspections::api_inspections_list, inspections::api_inspections_create, inspections::api_inspections_plan,
        inspections::api_inspections_get, inspections::api_inspections_results, inspections::api_inspections_action,
        inspections::api_inspections_question, inspections::api_inspections_photo, inspections::api_inspection_photo_get,
        inspections::api_inspection_signature, inspections::api_inspections_callback, inspections::api_hazards_list,
        inspections::api_hazards_resolve, inspections::api_checklist_list, inspections::api_checklist_create,
        inspections::api_checklist_update, inspections::api_inspections_report,
        inspections::api_plan_settings_get, inspections::api_plan_settings_put,
        trips::api_vehicles_list, trips::api_vehicles_create, trips::api_vehicles_update, trips::api_towns_get,
        trips::api_towns_put, trips::api_trips_list, trips::api_trips_create, trips::api_trips_proposal,
        trips::api_trips_report, trips::api_trips_get, trips::api_trips_action, trips::api_trips_stop,
        trips::api_trips_item_add, trips::api_trips_item_tick, trips::api_trips_photo, trips::api_trips_photo_get,
        trips::api_attendance, trips::api_absence_set,
        analysis::api_analysis_faults, analysis::api_analysis_hotspots, analysis::api_analysis_kpis,
        analysis::api_analysis_person,
        analysis::api_rectifications_list,
        analysis::api_rectifications_create, analysis::api_rectifications_get, analysis::api_rectifications_action,
        meetings::api_meetings_list, meetings::api_meetings_create, meetings::api_meetings_get,
        meetings::api_meetings_agenda, meetings::api_meetings_order, meetings::api_meetings_action,
        appraisals::api_appraisals_list, appraisals::api_appraisals_create, appraisals::api_appraisals_get,
        appraisals::api_appraisals_decide, appraisals::api_appraisal_weights_get,
        appraisals::api_appraisal_weights_put, appraisals::api_study_plans_list, appraisals::api_study_plans_create,
        articles::api_articles_list, articles::api_articles_create, articles::api_articles_get,
        articles::api_articles_update, articles::api_articles_action, articles::api_ticket_articles,
        trainings::api_trainings_list, trainings::api_trainings_create, trainings::api_trainings_coverage,
        trainings::api_trainings_get, trainings::api_trainings_attendance, trainings::api_trainings_action,
        trainings::api_trainings_material_add, trainings::api_trainings_material_get,
        work_plan::api_work_plan_get, work_plan::api_work_plan_item_add, work_plan::api_work_plan_item_update,
        work_plan::api_work_plan_publish,
    ),
    modifiers(&BearerAuth, &SharedErrors),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error answers that come from the layers every operation passes through rather than
/// from its handler, so each `#[utoipa::path]` need not repeat them (the fuzzer in `.ci/fuzz`
/// fails on any status code the document does not list):
/// - 401 from the bearer-token extractor, on every operation that is not `security(())`;
/// - 422 from the input check (`input.rs`: control characters, dates, `page`), on every one;
/// - 400 from the JSON/query/path extractors, where there is a body or a parameter;
/// - 413 from the body limit, where there is a body;
/// - 404 where a path parameter names a record that may not exist;
/// - 429 from the per-user write limit, on every signed-in write (signing out is never limited).
struct SharedErrors;
impl utoipa::Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |what: &str| -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorResponse"))).build(),
                    )
                    .build(),
            )
        };
        let anonymous = openapi.security.clone();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops: [(bool, &mut Option<Operation>); 5] = [
                (false, &mut item.get),
                (true, &mut item.put),
                (true, &mut item.post),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ];
            for (write, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let security = op.security.as_ref().or(anonymous.as_ref());
                let signed_in = !security.is_some_and(|s| s.iter().any(|r| *r == SecurityRequirement::default()));
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
                let has_body = op.request_body.is_some();
                let mut add = |status: &str, what: &str| {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(what));
                };
                if signed_in {
                    add("401", "not signed in, or the token has expired");
                }
                add("422", "a field is invalid");
                if has_body || !params.is_empty() {
                    add("400", "the request cannot be read");
                }
                if has_body {
                    add("413", "the body is over the size limit");
                }
                if has_path {
                    add("404", "no such record");
                }
                if signed_in && write && path != "/api/v1/session" {
                    add("429", "over the per-user write limit; see Retry-After");
                }
            }
        }
    }
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// A list answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    /// More than `total` (1,000) rows matched: they were not all counted.
    pub total_capped: bool,
}

/// `page` (from 1) and `per_page` (up to 500).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl PageParams {
    pub fn page(&self) -> aftercare_service::Page {
        aftercare_service::Page::new(self.page, self.per_page)
    }
}

/// JSON body whose rejection is our 400 in the caller's language.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let tr = anonymous_tr(req.headers());
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                e.status(),
                "too_large",
                tr.tf("error.too_large", &[("mb", &(crate::MAX_BODY_BYTES / (1024 * 1024)).to_string())]),
            )),
            Err(e) => Err(ApiError::bad_request(tr, &e.body_text())),
        }
    }
}

/// Query string whose rejection is our 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tr = anonymous_tr(&parts.headers);
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            // A parameter of the wrong shape (`?page=-1`) is a value that breaks a rule:
            // 422 naming it, in the caller's language.
            Err(e) => Err(match crate::error::query_field(&e.body_text()) {
                Some(field) => ApiError::from_service(
                    tr,
                    aftercare_service::ServiceError::Invalid(aftercare_domain::FieldErrors::single(field, "invalid")),
                ),
                None => ApiError::bad_request(tr, &e.body_text()),
            }),
        }
    }
}

/// A path id that is not a number is a 404, like an id that does not exist.
pub struct ApiId(pub i64);

impl FromRequestParts<AppState> for ApiId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tr = anonymous_tr(&parts.headers);
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiId(v)),
            Err(_) => Err(ApiError::from_service(tr, aftercare_service::ServiceError::NotFound)),
        }
    }
}
