//! Pages for people: each handler extracts, authorises through the service, and fills a
//! `*Page` template. Views never touch storage.

mod analysis;
mod appraisals;
mod articles;
mod assessments;
mod chart;
mod contacts;
mod customers;
mod daily;
mod dispatch;
mod equipment;
mod home;
mod import;
mod inspections;
mod login;
mod me;
mod meetings;
mod paperwork;
mod parts;
mod people;
mod phrases;
mod portal;
mod requisitions;
mod robots;
mod roster;
mod search;
mod settings;
mod shortages;
mod stock_reports;
mod suggestions;
mod taxonomy;
mod tickets;
mod trainings;
mod trips;
pub use tickets::notification_text;
mod users;
mod work_plan;

use crate::AppState;
use crate::auth::PageUser;
use crate::i18n::Tr;
use aftercare_domain::Role;
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::view_home_get))
        .route("/login", get(login::view_login_get).post(login::view_login_post))
        .route("/logout", post(login::view_logout_post))
        .route("/lang", post(login::view_lang_post))
        .route("/me", get(me::view_me_get).post(me::view_me_post))
        .route("/search", get(search::view_search_get))
        .route("/customers", get(customers::view_customers_get))
        .route("/customers/export", get(customers::view_customers_export_get))
        .route("/customers/new", get(customers::view_customer_new_get).post(customers::view_customer_new_post))
        .route("/customers/{id}", get(customers::view_customer_get))
        .route("/customers/{id}/edit", get(customers::view_customer_edit_get).post(customers::view_customer_edit_post))
        .route("/equipment", get(equipment::view_equipment_list_get))
        .route("/equipment/export", get(equipment::view_equipment_export_get))
        .route("/equipment/new", get(equipment::view_equipment_new_get).post(equipment::view_equipment_new_post))
        .route("/equipment/{id}", get(equipment::view_equipment_get))
        .route(
            "/equipment/{id}/edit",
            get(equipment::view_equipment_edit_get).post(equipment::view_equipment_edit_post),
        )
        .route("/import", get(import::view_import_get).post(import::view_import_post))
        .route("/import/template", get(import::view_import_template_get))
        .route("/admin/users", get(users::view_users_get))
        .route("/admin/users/new", get(users::view_user_new_get).post(users::view_user_new_post))
        .route("/admin/users/{id}", get(users::view_user_edit_get).post(users::view_user_edit_post))
        .route("/admin/audit", get(users::view_audit_get))
        .route("/tickets", get(tickets::view_tickets_get))
        .route("/tickets/filters", post(tickets::view_tickets_save_filter_post))
        .route("/tickets/new", get(tickets::view_ticket_new_get).post(tickets::view_ticket_new_post))
        .route("/tickets/{id}", get(tickets::view_ticket_get))
        .route("/tickets/{id}/act/{action}", post(tickets::view_ticket_act_post))
        .route("/tickets/{id}/comment", post(tickets::view_ticket_comment_post))
        .route("/tickets/{id}/attempt", post(tickets::view_ticket_attempt_post))
        .route("/tickets/{id}/escalation-request", post(tickets::view_ticket_escalation_request_post))
        .route("/tickets/{id}/agreed-visit", post(tickets::view_ticket_agreed_post))
        .route("/tickets/{id}/suggest", post(tickets::view_ticket_suggest_post))
        .route("/visits/{id}/review", post(tickets::view_visit_review_post))
        .route("/suggestions", get(suggestions::view_suggestions_get))
        .route("/settings/robots", get(robots::view_robots_get).post(robots::view_robots_post))
        .route("/settings/robots/{id}/remove", post(robots::view_robot_remove_post))
        .route("/settings/public-url", post(robots::view_public_url_post))
        .route("/suggestions/{id}/decide", post(suggestions::view_suggestion_decide_post))
        .route("/equipment/{id}/suggest", post(suggestions::view_equipment_suggest_post))
        .route("/contacts/{id}/engineer-reply", post(contacts::view_contact_engineer_reply_post))
        .route("/tickets/{id}/visit", get(tickets::view_visit_get).post(tickets::view_visit_post))
        .route("/visits/{id}/signature.png", get(tickets::view_signature_get))
        .route("/photos/{id}", get(tickets::view_photo_get))
        .route("/today", get(tickets::view_today_get))
        .route("/callbacks", get(tickets::view_callbacks_get))
        .route("/notifications", get(tickets::view_notifications_get))
        .route("/notifications/read", post(tickets::view_notifications_read_post))
        .route("/dispatch", get(dispatch::view_dispatch_get))
        .route("/tickets/{id}/print/analysis", get(paperwork::view_print_analysis_get))
        .route("/tickets/{id}/print/repair", get(paperwork::view_print_repair_get))
        .route("/tickets/{id}/print/analysis.xlsx", get(paperwork::view_print_analysis_xlsx_get))
        .route("/tickets/{id}/print/repair.xlsx", get(paperwork::view_print_repair_xlsx_get))
        .route("/reviews", get(assessments::view_reviews_get))
        .route("/reviews/{id}", post(assessments::view_review_post))
        .route("/settings/sla", get(settings::view_sla_get))
        .route("/settings/sla/{priority}", post(settings::view_sla_post))
        .route("/settings/repeat-window", post(settings::view_repeat_window_post))
        .route("/settings/sla-calendar", post(settings::view_sla_calendar_post))
        .route("/settings/write-limits", post(settings::view_write_limits_post))
        .route("/settings/taxonomy", get(taxonomy::view_taxonomy_get).post(taxonomy::view_taxonomy_post))
        .route("/settings/taxonomy/{code}", get(taxonomy::view_subcategory_get).post(taxonomy::view_subcategory_post))
        .route("/settings/taxonomy/{code}/active", post(taxonomy::view_subcategory_active_post))
        .route("/settings/working-hours", post(roster::view_working_hours_post))
        .route("/roster", get(roster::view_roster_get).post(roster::view_roster_post))
        .route("/roster/copy", post(roster::view_roster_copy_post))
        .route("/roster/{id}/delete", post(roster::view_roster_delete_post))
        .route("/parts", get(parts::view_parts_get))
        .route("/stock", get(parts::view_stock_get))
        .route("/stock/defective/dispose", post(parts::view_dispose_post))
        .route("/stock/movements", post(parts::view_movement_post))
        .route("/stock/valuation", get(stock_reports::view_valuation_get))
        .route("/stock/count", get(stock_reports::view_count_get).post(stock_reports::view_count_post))
        .route("/parts/export.xlsx", get(stock_reports::view_parts_export_get))
        .route("/parts/import", get(stock_reports::view_parts_import_get).post(stock_reports::view_parts_import_post))
        .route("/stock/ledger", get(requisitions::view_ledger_get))
        .route("/stock/ledger.xlsx", get(requisitions::view_ledger_xlsx_get))
        .route("/requisitions", get(requisitions::view_requisitions_get))
        .route(
            "/requisitions/new",
            get(requisitions::view_requisition_new_get).post(requisitions::view_requisition_new_post),
        )
        .route("/requisitions/{id}", get(requisitions::view_requisition_get))
        .route("/requisitions/{id}/act/{action}", post(requisitions::view_requisition_act_post))
        .route("/requisitions/{id}/print", get(requisitions::view_requisition_print_get))
        .route("/stock/shortages", get(shortages::view_shortages_get))
        .route("/stock/shortages/{id}/acknowledge", post(shortages::view_acknowledge_post))
        .route("/stock/quotas", post(shortages::view_quota_post))
        .route("/phrases", get(phrases::view_phrases_get).post(phrases::view_phrase_create_post))
        .route("/phrases/{id}", post(phrases::view_phrase_edit_post))
        .route("/phrases/{id}/move", post(phrases::view_phrase_move_post))
        .route("/phrases/{id}/active", post(phrases::view_phrase_active_post))
        .route("/contacts/daily", get(daily::view_daily_get))
        .route("/contacts/daily.xlsx", get(daily::view_daily_xlsx_get))
        .route("/portal", get(portal::view_portal_get))
        .route("/portal/report", get(portal::view_portal_report_get).post(portal::view_portal_report_post))
        .route("/portal/tickets/{id}", get(portal::view_portal_ticket_get))
        .route("/portal/tickets/{id}/confirm", post(portal::view_portal_confirm_post))
        .route("/portal/tickets/{id}/comment", post(portal::view_portal_comment_post))
        .route("/attachments/{id}", get(portal::view_attachment_get))
        .route("/desk", get(contacts::view_contacts_desk_get).post(contacts::view_contacts_desk_post))
        .route("/desk/pop", get(contacts::view_contacts_desk_pop_get))
        .route("/contacts", get(contacts::view_contacts_get))
        .route("/contacts/{id}", get(contacts::view_contact_get))
        .route("/pick/schools", get(contacts::view_pick_schools_get))
        .route("/contacts/{id}/review", post(contacts::view_contact_review_post))
        .route("/contacts/{id}/callback", post(contacts::view_contact_callback_post))
        .route("/contacts/{id}/school", post(contacts::view_contact_school_post))
        .route("/contacts/{id}/files/{file}", get(contacts::view_contact_file_get))
        .route("/inspections", get(inspections::view_inspections_get))
        .route("/inspections/calendar", get(inspections::view_calendar_get))
        .route("/inspections/new", get(inspections::view_plan_get).post(inspections::view_plan_one_post))
        .route("/inspections/plan", post(inspections::view_plan_many_post))
        .route("/inspections/checklist", get(inspections::view_checklist_get))
        .route("/inspections/checklist/{id}", post(inspections::view_checklist_post))
        .route("/inspections/settings", post(inspections::view_plan_settings_post))
        .route("/inspections/report", get(inspections::view_inspection_report_get))
        .route("/inspections/export.xlsx", get(inspections::view_inspections_xlsx_get))
        .route("/inspections/photos/{id}", get(inspections::view_inspection_photo_get))
        .route("/inspections/{id}", get(inspections::view_inspection_get))
        .route("/inspections/{id}/act/{action}", post(inspections::view_inspection_act_post))
        .route("/inspections/{id}/line", post(inspections::view_inspection_line_post))
        .route("/inspections/{id}/questions", post(inspections::view_inspection_question_post))
        .route("/inspections/{id}/photos", post(inspections::view_inspection_photos_post))
        .route("/inspections/{id}/complete", post(inspections::view_inspection_complete_post))
        .route("/inspections/{id}/callback", post(inspections::view_inspection_callback_post))
        .route("/inspections/{id}/signature.png", get(inspections::view_inspection_signature_get))
        .route("/inspections/{id}/print", get(inspections::view_inspection_print_get))
        .route("/inspections/{id}/print.xlsx", get(inspections::view_inspection_xlsx_get))
        .route("/analysis", get(analysis::view_analysis_get))
        .route("/analysis/faults.xlsx", get(analysis::view_analysis_xlsx_get))
        .route("/analysis/kpis", get(analysis::view_kpis_get))
        .route("/analysis/pack", get(analysis::view_pack_get))
        .route("/analysis/pack.xlsx", get(analysis::view_pack_xlsx_get))
        .route("/analysis/people", get(people::view_people_get))
        .route("/analysis/people.xlsx", get(people::view_people_xlsx_get))
        .route("/rectifications", get(analysis::view_rectifications_get))
        .route("/rectifications/new", get(analysis::view_rect_new_get).post(analysis::view_rect_new_post))
        .route("/rectifications/{id}", get(analysis::view_rect_get))
        .route("/rectifications/{id}/act/{action}", post(analysis::view_rect_act_post))
        .route("/plan", get(work_plan::view_plan_get))
        .route("/plan/print", get(work_plan::view_plan_print_get))
        .route("/plan/items", post(work_plan::view_plan_item_post))
        .route("/plan/items/{id}", post(work_plan::view_plan_item_update_post))
        .route("/plan/publish", post(work_plan::view_plan_publish_post))
        .route("/meetings", get(meetings::view_meetings_get).post(meetings::view_meetings_post))
        .route("/meetings/{id}", get(meetings::view_meeting_get))
        .route("/meetings/{id}/agenda", post(meetings::view_agenda_post))
        .route("/meetings/{id}/agenda/{point}/move", post(meetings::view_agenda_move_post))
        .route("/meetings/{id}/hold", post(meetings::view_hold_post))
        .route("/meetings/{id}/print", get(meetings::view_minutes_print_get))
        .route("/appraisals", get(appraisals::view_appraisals_get).post(appraisals::view_appraisals_post))
        .route("/appraisals/compare", get(appraisals::view_appraisals_compare_get))
        .route("/appraisals/print", get(appraisals::view_appraisals_print_get))
        .route("/appraisals/weights", post(appraisals::view_appraisal_weights_post))
        .route("/appraisals/study-plans", post(appraisals::view_study_plan_post))
        .route("/appraisals/{id}/decide", post(appraisals::view_appraisal_decide_post))
        .route("/articles", get(articles::view_articles_get).post(articles::view_articles_post))
        .route("/articles/new", get(articles::view_article_new_get))
        .route("/articles/{id}", get(articles::view_article_get))
        .route("/articles/{id}/edit", get(articles::view_article_edit_get).post(articles::view_article_edit_post))
        .route("/articles/{id}/actions/{action}", post(articles::view_article_action_post))
        .route("/trainings", get(trainings::view_trainings_get).post(trainings::view_trainings_post))
        .route("/trainings/coverage", get(trainings::view_coverage_get))
        .route("/trainings/materials/{id}", get(trainings::view_material_get))
        .route("/trainings/{id}", get(trainings::view_training_get))
        .route("/trainings/{id}/attendance", post(trainings::view_attendance_post))
        .route("/trainings/{id}/materials", post(trainings::view_material_post))
        .route("/trainings/{id}/actions/{action}", post(trainings::view_training_action_post))
        .route("/trips", get(trips::view_trips_get))
        .route("/trips/new", get(trips::view_trip_new_get).post(trips::view_trip_new_post))
        .route("/trips/proposal", get(trips::view_proposal_get))
        .route("/trips/proposal/accept", post(trips::view_proposal_accept_post))
        .route("/trips/report", get(trips::view_trip_report_get))
        .route("/trips/export.xlsx", get(trips::view_trips_xlsx_get))
        .route("/trips/photos/{id}", get(trips::view_trip_photo_get))
        .route("/trips/{id}", get(trips::view_trip_get))
        .route("/trips/{id}/act/{action}", post(trips::view_trip_act_post))
        .route("/trips/{id}/stops/{stop}/{action}", post(trips::view_trip_stop_post))
        .route("/trips/{id}/items", post(trips::view_trip_item_post))
        .route("/trips/{id}/items/{item}", post(trips::view_trip_tick_post))
        .route("/trips/{id}/receipts", post(trips::view_trip_receipts_post))
        .route("/trips/{id}/print", get(trips::view_trip_print_get))
        .route("/attendance", get(trips::view_attendance_get))
        .route("/attendance/absences", post(trips::view_absence_post))
        .route("/vehicles", get(trips::view_vehicles_get).post(trips::view_vehicle_post))
        .route("/vehicles/towns", post(trips::view_towns_post))
        .route("/hazards", get(inspections::view_hazards_get))
        .route("/hazards/{id}/resolve", post(inspections::view_hazard_resolve_post))
}

/// A record id in a page's path; anything that is not a number is "not found", in the
/// user's language, like an id that does not exist.
pub struct PageId(pub i64);

impl axum::extract::FromRequestParts<AppState> for PageId {
    type Rejection = crate::error::PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PageId(id)),
            Err(_) => Err(crate::error::PageError::status(
                crate::auth::anonymous_tr(&parts.headers),
                StatusCode::NOT_FOUND,
                "error.not_found",
            )),
        }
    }
}

/// Unknown addresses get our own 404 page in the visitor's language.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    crate::error::PageError::status(crate::auth::anonymous_tr(&headers), StatusCode::NOT_FOUND, "error.no_page")
        .into_response()
}

/// `?ok=KEY` after a redirect names the flash message to show.
#[derive(serde::Deserialize)]
pub struct OkParam {
    pub ok: Option<String>,
}

/// Renders a template, or an error page if rendering fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            let op = crate::auth::operation_id();
            tracing::error!(operation = %op, error = %e, "template");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("internal error {op}")).into_response()
        }
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub icon: &'static str,
    pub active: bool,
}

pub struct Flash {
    pub kind: &'static str,
    pub message: String,
}

/// What every page shows around its content: who is signed in, the navigation for their
/// roles, breadcrumbs, a flash message, the CSRF token for forms.
pub struct Ctx {
    pub tr: Tr,
    pub title: String,
    pub user_name: String,
    pub user_roles: String,
    pub signed_in: bool,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub crumbs: Vec<(String, String)>,
    pub flash: Option<Flash>,
    pub tz: chrono_tz::Tz,
    pub can_edit: bool,
    pub is_staff: bool,
    pub unread: i64,
}

impl Ctx {
    pub fn new(st: &AppState, u: &PageUser, path: &str, title: String) -> Ctx {
        let tr = u.tr;
        let a = &u.actor;
        let mut nav = vec![NavItem { href: "/", label: tr.t("nav.home"), icon: "home", active: path == "/" }];
        let mut add = |href: &'static str, key: &str, icon: &'static str| {
            nav.push(NavItem { href, label: tr.t(key), icon, active: path.starts_with(href) });
        };
        if a.is_staff() {
            add("/tickets", "nav.tickets", "ticket");
            if a.has(Role::Technician) {
                add("/today", "nav.today", "today");
            }
            if a.has_any(&[Role::Engineer, Role::Agent]) {
                add("/dispatch", "nav.dispatch", "dispatch");
            }
            if a.has_any(&[Role::Agent, Role::Manager]) {
                add("/desk", "nav.desk", "phone");
            }
            if a.has_any(&[Role::Agent]) {
                add("/callbacks", "nav.callbacks", "phone");
            }
            add("/contacts", "nav.contacts", "log");
            add("/roster", "nav.roster", "calendar");
            add("/phrases", "nav.phrases", "chat");
            add("/customers", "nav.customers", "school");
            add("/equipment", "nav.equipment", "device");
            add("/stock", "nav.parts", "box");
            add("/requisitions", "nav.requisitions", "box");
            add("/inspections", "nav.inspections", "calendar");
            add("/hazards", "nav.hazards", "review");
            add("/trips", "nav.trips", "dispatch");
            add("/attendance", "nav.attendance", "users");
            add("/plan", "nav.plan", "calendar");
            add("/meetings", "nav.meetings", "calendar");
            add("/trainings", "nav.trainings", "users");
            add("/articles", "nav.articles", "log");
            add("/appraisals", "nav.appraisals", "review");
            add("/analysis", "nav.analysis", "review");
            add("/rectifications", "nav.rectifications", "review");
            if a.can_edit_installed_base() {
                add("/import", "nav.import", "upload");
            }
            if a.is_admin_or_manager() {
                add("/reviews", "nav.reviews", "review");
            }
            add("/suggestions", "nav.suggestions", "review");
            // Everyone on staff may read the service levels; the manager edits them.
            add("/settings/sla", "nav.sla", "settings");
            if a.can_manage_users() || a.has(Role::Manager) {
                add("/admin/users", "nav.users", "users");
            }
            if a.is_admin_or_manager() {
                add("/settings/robots", "nav.robots", "chat");
            }
            if a.can_read_audit() {
                add("/admin/audit", "nav.audit", "log");
            }
        } else if a.customer_id.is_some() {
            add("/portal/report", "nav.report_fault", "plus");
            add("/tickets", "nav.my_tickets", "ticket");
            add("/equipment", "nav.my_equipment", "device");
            add("/inspections", "nav.my_inspections", "calendar");
            add("/trainings", "nav.my_trainings", "users");
        }
        Ctx {
            tr,
            title,
            user_name: a.display_name.clone(),
            user_roles: a.roles.iter().map(|r| tr.role(r.as_str())).collect::<Vec<_>>().join(" · "),
            signed_in: true,
            csrf: u.csrf.clone(),
            nav,
            crumbs: Vec::new(),
            flash: None,
            tz: st.cfg.tz,
            can_edit: a.can_edit_installed_base(),
            is_staff: a.is_staff(),
            unread: u.unread,
        }
    }

    /// A page for someone not signed in (sign-in, errors).
    pub fn anonymous(tr: Tr, title: String) -> Ctx {
        Ctx {
            tr,
            title,
            user_name: String::new(),
            user_roles: String::new(),
            signed_in: false,
            csrf: String::new(),
            nav: Vec::new(),
            crumbs: Vec::new(),
            flash: None,
            tz: chrono_tz::Asia::Shanghai,
            can_edit: false,
            is_staff: false,
            unread: 0,
        }
    }

    pub fn crumb(mut self, label: String, href: &str) -> Ctx {
        self.crumbs.push((label, href.to_owned()));
        self
    }

    /// Shows the flash named by `?ok=KEY` after a redirect (only known keys).
    pub fn flash_from(mut self, ok: Option<&str>) -> Ctx {
        if let Some(k) = ok.filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            let key = format!("flash.{k}");
            let msg = self.tr.t(&key);
            if !msg.ends_with(&key) {
                self.flash = Some(Flash { kind: "ok", message: msg });
            }
        }
        self
    }

    pub fn t(&self, key: &str) -> String {
        self.tr.t(key)
    }

    pub fn dt(&self, at: &DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    pub fn d(&self, d: &Option<NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
    }

    pub fn lang(&self) -> &'static str {
        self.tr.0
    }

    /// A list's count: "1,000+" when the count stopped there.
    pub fn count_text(&self, total: &i64, capped: &bool) -> String {
        if !*capped {
            return total.to_string();
        }
        let digits = total.to_string();
        let mut n = String::new();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                n.push(',');
            }
            n.push(d);
        }
        self.tr.tf("list.count_capped", &[("n", &n)])
    }

    pub fn page_of(&self, page: impl ToString, pages: impl ToString, total: impl ToString) -> String {
        self.tr.tf(
            "list.page_of",
            &[("page", &page.to_string()), ("pages", &pages.to_string()), ("total", &total.to_string())],
        )
    }

    pub fn action_label(&self, action: &str) -> String {
        self.tr.t(&format!("audit.action.{action}"))
    }

    pub fn entity_label(&self, entity: &str) -> String {
        self.tr.t(&format!("audit.entity.{entity}"))
    }
}

/// Field errors of a form, by field name, as sentences.
#[derive(Default)]
pub struct FormErrors {
    pub by_field: HashMap<String, String>,
    pub summary: Vec<String>,
}

impl FormErrors {
    pub fn from_fields(tr: Tr, e: &aftercare_domain::FieldErrors) -> FormErrors {
        let mut f = FormErrors::default();
        for x in &e.0 {
            let msg = tr.field_error(x);
            f.by_field.entry(x.field.clone()).or_insert_with(|| tr.t(&format!("rule.{}", x.code)));
            f.summary.push(msg);
        }
        f
    }
    pub fn message(msg: String) -> FormErrors {
        FormErrors { by_field: HashMap::new(), summary: vec![msg] }
    }
    pub fn get(&self, field: &str) -> String {
        self.by_field.get(field).cloned().unwrap_or_default()
    }
    pub fn has(&self, field: &str) -> bool {
        self.by_field.contains_key(field)
    }
    pub fn any(&self) -> bool {
        !self.summary.is_empty()
    }
}

/// Turns a service error on a form post into form errors (validation, duplicate, stale)
/// or a page error (everything else).
pub fn form_errors(tr: Tr, e: aftercare_service::ServiceError) -> Result<FormErrors, crate::error::PageError> {
    use aftercare_service::ServiceError as E;
    match e {
        E::Invalid(fe) => Ok(FormErrors::from_fields(tr, &fe)),
        E::Duplicate(field) => {
            Ok(FormErrors::from_fields(tr, &aftercare_domain::FieldErrors::single(field, "duplicate")))
        }
        E::Stale => Ok(FormErrors::message(tr.t("error.stale"))),
        other => Err(crate::error::PageError::from_service(tr, other)),
    }
}

/// A refused post on a record's page: a step not possible now (its status, a condition
/// unmet) is one message; field errors, duplicates and stale versions are as
/// [`form_errors`] makes them; anything else is the error page.
pub fn refusal_errors(tr: Tr, e: aftercare_service::ServiceError) -> Result<FormErrors, crate::error::PageError> {
    match e {
        aftercare_service::ServiceError::Transition { .. } => {
            Ok(FormErrors::message(crate::error::PageError::from_service(tr, e).message().unwrap_or_default()))
        }
        other => form_errors(tr, other),
    }
}

/// The value of a form field from raw pairs.
pub fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

pub fn fields(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// Page links of a list, keeping its filters.
pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    /// More rows matched than `total` (see `COUNT_CAP` of the store).
    pub capped: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<(u32, String)>,
}

impl Pager {
    /// The pager of a list whose count may have stopped at the cap (`Paged::capped`):
    /// past the counted pages it goes on for as long as pages come back full, and never
    /// calls the page shown later than the last.
    pub fn of<T>(
        base: &str,
        params: &[(&str, String)],
        page: aftercare_service::Page,
        rows: &aftercare_service::Paged<T>,
    ) -> Pager {
        let mut pager = Pager::new(base, params, page, rows.total);
        if rows.capped {
            pager.capped = true;
            pager.pages = pager.pages.max(page.page);
            let full = rows.items.len() as u64 >= u64::from(page.per_page);
            if pager.next.is_none() && full {
                pager.next = Some(page_link(base, params, page.page + 1));
            }
        }
        pager
    }

    pub fn new(base: &str, params: &[(&str, String)], page: aftercare_service::Page, total: i64) -> Pager {
        let pages = ((total.max(0) as u64).div_ceil(u64::from(page.per_page)).max(1)) as u32;
        let link = |p: u32| page_link(base, params, p);
        let lo = page.page.saturating_sub(2).max(1);
        let hi = (lo + 4).min(pages);
        Pager {
            page: page.page,
            pages,
            total,
            capped: false,
            prev: (page.page > 1).then(|| link(page.page - 1)),
            next: (page.page < pages).then(|| link(page.page + 1)),
            links: (lo..=hi).map(|p| (p, link(p))).collect(),
        }
    }
}

/// Page `p` of a list, keeping its filters.
fn page_link(base: &str, params: &[(&str, String)], p: u32) -> String {
    let mut q: Vec<(&str, String)> = params.iter().filter(|(k, v)| *k != "page" && !v.is_empty()).cloned().collect();
    q.push(("page", p.to_string()));
    query_url(base, &q)
}

pub fn query_url(base: &str, params: &[(&str, String)]) -> String {
    let q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::error::url_encode(v)))
        .collect();
    if q.is_empty() { base.to_owned() } else { format!("{base}?{}", q.join("&")) }
}

/// A sortable column header's link: same filters, this sort, direction toggled.
pub fn sort_link(base: &str, params: &[(&str, String)], key: &str, current: Option<&str>, desc: bool) -> String {
    let mut q: Vec<(&str, String)> =
        params.iter().filter(|(k, _)| !matches!(*k, "sort" | "desc" | "page")).cloned().collect();
    q.push(("sort", key.to_owned()));
    if current == Some(key) && !desc {
        q.push(("desc", "true".into()));
    }
    query_url(base, &q)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Ctx,
    pub status: u16,
    pub message: String,
}

pub fn error_page(tr: Tr, status: StatusCode, message: &str) -> Html<String> {
    let page =
        ErrorPage { c: Ctx::anonymous(tr, tr.t("error.title")), status: status.as_u16(), message: message.to_owned() };
    Html(page.render().unwrap_or_else(|_| message.to_owned()))
}

/// A page's query string; one of the wrong shape (`?page=-1`) is a page in the reader's
/// language naming the parameter, not axum's English `text/plain`.
pub struct PageQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<AppState> for PageQuery<T> {
    type Rejection = crate::error::PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, crate::error::PageError> {
        let tr = crate::auth::anonymous_tr(&parts.headers);
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(PageQuery(v)),
            Err(e) => {
                let field = crate::error::query_field(&e.body_text()).unwrap_or_else(|| "query".into());
                let f = aftercare_domain::FieldError { field, code: "invalid", area: None };
                Err(crate::error::PageError::Page { tr, status: StatusCode::BAD_REQUEST, message: tr.field_error(&f) })
            }
        }
    }
}

/// A `datetime-local` field in the department's zone: `None` when left empty; a value that
/// is no time is `invalid_date` at the field (and `None`).
pub fn local_datetime(
    value: Option<String>,
    field: &'static str,
    tz: chrono_tz::Tz,
    bad: &mut aftercare_domain::FieldErrors,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = value.filter(|s| !s.trim().is_empty())?;
    let t = aftercare_domain::clock::parse_local(&v, tz);
    if t.is_none() {
        bad.push(field, "invalid_date");
    }
    t
}
