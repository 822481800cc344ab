//! Training (manual §2.1, §3.2.5): the manager and the engineer plan customer trainings per
//! school, phase and system (the early and mid phases get more sessions), and the staff's
//! vendor and internal trainings; they record who came and complete it with the trainees'
//! feedback. The coverage shows every school × phase × system, trained or not, the schools
//! whose administrator never came first. A school reads only its own trainings, its own
//! people on them and the materials.

use crate::attachments::{Upload, clean_filename, sniff_image};
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::inspections::Phase;
use aftercare_domain::trainings::{
    AttendanceInput, Completion, SchoolCoverage, SchoolSystems, Taught, TrainingAction, TrainingCompleteInput,
    TrainingError, TrainingInput, TrainingKind, TrainingStatus, allowed_actions, check_action, check_attendance,
    coverage, may_plan, proposed_sessions,
};
use aftercare_domain::{CustomerId, FieldErrors, Role, System, TrainingId, UserId};
use aftercare_store::attachments::NewAttachment;
use aftercare_store::trainings as store;
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

pub use aftercare_store::trainings::{AttendeeRow, MaterialMeta, TrainingFilter, TrainingRow};

/// The largest material (slides, a manual as PDF): ten MiB, whose base64 (a third more)
/// still fits the router's 16 MiB body limit.
pub const MAX_MATERIAL_BYTES: usize = 10 * 1024 * 1024;

/// A training as its page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrainingView {
    pub training: TrainingRow,
    pub customer_ids: Vec<i64>,
    /// The schools (id and name) — a school's user sees only its own.
    pub schools: Vec<TrainingSchool>,
    pub trainer_ids: Vec<i64>,
    /// Everyone recorded; a school sees only its own people.
    pub attendees: Vec<AttendeeRow>,
    pub materials: Vec<MaterialMeta>,
    pub actions: Vec<TrainingAction>,
    /// Attendance may be recorded (planned or completed, by the manager or the engineer).
    pub can_record: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrainingSchool {
    pub customer_id: i64,
    pub name: String,
}

/// A school's line of the coverage, with its name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageSchool {
    pub customer_id: i64,
    pub customer_name: String,
    pub administrator_trained: bool,
    pub trained: usize,
    pub cells: Vec<aftercare_domain::trainings::CoverageCell>,
    /// Sessions held per phase, against what the plan proposes per system.
    pub sessions: Vec<PhaseSessions>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhaseSessions {
    pub phase: Phase,
    pub held: i64,
    /// `proposed_sessions(phase)` × the school's systems.
    pub proposed: i64,
}

fn training_error(e: TrainingError, action: &'static str, status: TrainingStatus) -> ServiceError {
    let reason = match e {
        TrainingError::Cancelled => "training_cancelled",
        TrainingError::Completed => "training_completed",
        TrainingError::NobodyPresent => "training_nobody_present",
    };
    ServiceError::Transition { action, status: status.as_str(), reason: Some(reason) }
}

/// The material types taken: images, PDF, and Office files (checked by their bytes: a
/// PDF header, or a zip named .docx/.pptx/.xlsx).
pub fn sniff_material(data: &[u8], filename: &str) -> Option<&'static str> {
    if let Some(image) = sniff_image(data) {
        return Some(image);
    }
    if data.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if data.starts_with(b"PK\x03\x04") {
        let lower = filename.to_lowercase();
        for (ext, ct) in [
            (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ] {
            if lower.ends_with(ext) {
                return Some(ct);
            }
        }
    }
    None
}

impl Services {
    /// Staff read every training; a school only the customer trainings it is on, and of
    /// its schools only itself.
    async fn readable_training(&self, by: &Actor, id: TrainingId) -> Result<(TrainingRow, Vec<(i64, String)>)> {
        let t = store::get(&self.db, id.0).await?;
        let mut schools = store::schools(&self.db, id.0).await?;
        match by.customer_scope() {
            None => Ok((t, schools)),
            Some(own) if schools.iter().any(|(c, _)| *c == own.0) => {
                schools.retain(|(c, _)| *c == own.0);
                Ok((t, schools))
            }
            Some(_) => Err(ServiceError::NotFound),
        }
    }

    /// Staff accounts among `ids` (trainers, staff attendees); a school's account is not one.
    async fn check_staff(&self, e: &mut FieldErrors, field: &str, ids: &[i64]) -> Result<()> {
        let staff: Vec<i64> = self.staff_ids().await?;
        for (i, u) in ids.iter().enumerate() {
            if !staff.contains(u) {
                e.push(format!("{field}[{i}]"), "not_found");
            }
        }
        Ok(())
    }

    async fn staff_ids(&self) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for role in [Role::Engineer, Role::Technician, Role::Manager, Role::Storekeeper, Role::Agent, Role::Admin] {
            out.extend(aftercare_store::users::with_role(&self.db, role.as_str()).await?.into_iter().map(|u| u.id));
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    pub async fn plan_training(&self, by: &Actor, input: &TrainingInput, now: DateTime<Utc>) -> Result<TrainingView> {
        require(may_plan(&by.roles))?;
        let t = input.validate()?;
        let mut e = FieldErrors::default();
        self.check_staff(&mut e, "trainer_ids", &t.trainer_ids).await?;
        let found = aftercare_store::inspections::schools(&self.db, None, &t.customer_ids).await?;
        for (i, c) in t.customer_ids.iter().enumerate() {
            if !found.iter().any(|(id, _)| id == c) {
                e.push(format!("customer_ids[{i}]"), "not_found");
            }
        }
        e.in_area("trainings").into_result(())?;
        let id = store::create(&self.db, &self.writer(by), &t, now).await?;
        self.training(by, TrainingId(id)).await
    }

    pub async fn trainings(&self, by: &Actor, mut f: TrainingFilter, page: Page) -> Result<Paged<TrainingRow>> {
        if let Some(own) = by.customer_scope() {
            f.customer_id = Some(own.0);
            f.kind = Some(TrainingKind::Customer);
        } else {
            require(by.is_staff())?;
        }
        Ok(store::list(&self.db, &f, page).await?)
    }

    pub async fn training(&self, by: &Actor, id: TrainingId) -> Result<TrainingView> {
        let (training, schools) = self.readable_training(by, id).await?;
        let customer_ids = schools.iter().map(|(c, _)| *c).collect();
        let schools = schools.into_iter().map(|(customer_id, name)| TrainingSchool { customer_id, name }).collect();
        let mut attendees = store::attendees(&self.db, id.0).await?;
        if let Some(own) = by.customer_scope() {
            attendees.retain(|a| a.customer_id == Some(own.0));
        }
        let trainer_ids = store::trainers(&self.db, id.0).await?;
        let materials = store::materials(&self.db, id.0).await?;
        let actions = allowed_actions(&by.roles, training.status);
        let can_record = may_plan(&by.roles) && check_attendance(training.status).is_ok();
        Ok(TrainingView { training, customer_ids, schools, trainer_ids, attendees, materials, actions, can_record })
    }

    /// Replaces who came; a customer training's people come from its schools, a staff
    /// training's are staff accounts.
    pub async fn record_attendance(
        &self,
        by: &Actor,
        id: TrainingId,
        input: &AttendanceInput,
        now: DateTime<Utc>,
    ) -> Result<TrainingView> {
        require(may_plan(&by.roles))?;
        let (t, schools) = self.readable_training(by, id).await?;
        check_attendance(t.status).map_err(|e| training_error(e, "attendance", t.status))?;
        let schools: Vec<i64> = schools.iter().map(|(c, _)| *c).collect();
        // Every error at once: the list's own and the accounts that are not staff.
        let (people, mut e) = match input.validate(t.kind, &schools) {
            Ok(p) => (p, FieldErrors::default()),
            Err(e) => (Vec::new(), e),
        };
        let raw = input.attendees.as_deref().unwrap_or_default();
        if raw.iter().any(|a| a.user_id.is_some()) {
            let staff = self.staff_ids().await?;
            for (i, a) in raw.iter().enumerate() {
                if a.user_id.is_some_and(|u| !staff.contains(&u)) {
                    e.push(format!("attendees[{i}].user_id"), "not_found");
                }
            }
        }
        e.in_area("trainings").into_result(())?;
        store::set_attendance(&self.db, &self.writer(by), id.0, &people, now).await?;
        self.training(by, id).await
    }

    /// `complete` (with the feedback) or `cancel`.
    pub async fn training_action(
        &self,
        by: &Actor,
        id: TrainingId,
        action: TrainingAction,
        input: &TrainingCompleteInput,
        now: DateTime<Utc>,
    ) -> Result<TrainingView> {
        require(may_plan(&by.roles))?;
        let (t, _) = self.readable_training(by, id).await?;
        let done = match action {
            TrainingAction::Complete => input.validate()?,
            TrainingAction::Cancel => Completion::default(),
        };
        check_action(t.status, action, usize::try_from(t.present).unwrap_or(0))
            .map_err(|e| training_error(e, action.as_str(), t.status))?;
        let to = match action {
            TrainingAction::Complete => TrainingStatus::Completed,
            TrainingAction::Cancel => TrainingStatus::Cancelled,
        };
        store::finish(&self.db, &self.writer(by), id.0, to, &done, now).await?;
        self.training(by, id).await
    }

    /// Adds a handout: an image, a PDF or an Office file, checked by its bytes.
    pub async fn add_training_material(
        &self,
        by: &Actor,
        id: TrainingId,
        upload: &Upload,
        now: DateTime<Utc>,
    ) -> Result<MaterialMeta> {
        require(may_plan(&by.roles))?;
        let (t, _) = self.readable_training(by, id).await?;
        if t.status == TrainingStatus::Cancelled {
            return Err(training_error(TrainingError::Cancelled, "material", t.status));
        }
        if upload.data.is_empty() {
            return Err(FieldErrors::single("file", "required").in_area("trainings").into());
        }
        if upload.data.len() > MAX_MATERIAL_BYTES {
            return Err(FieldErrors::single("file", "too_large").in_area("trainings").into());
        }
        let ct = sniff_material(&upload.data, &upload.filename)
            .ok_or_else(|| FieldErrors::single("file", "unsupported_type").in_area("trainings"))?;
        let f = NewAttachment {
            filename: clean_filename(&upload.filename, ct),
            content_type: ct.to_owned(),
            data: upload.data.clone(),
        };
        let mid = store::add_material(&self.db, &self.writer(by), id.0, &f, now).await?;
        store::materials(&self.db, id.0).await?.into_iter().find(|m| m.id == mid).ok_or(ServiceError::NotFound)
    }

    /// A material with its bytes, for whoever may read its training.
    pub async fn training_material(&self, by: &Actor, material_id: i64) -> Result<(MaterialMeta, Vec<u8>)> {
        let (meta, data) = store::material(&self.db, material_id).await?;
        self.readable_training(by, TrainingId(meta.training_id)).await?;
        Ok((meta, data))
    }

    /// Every school × phase × system it runs; a school sees its own line.
    pub async fn training_coverage(&self, by: &Actor, customer: Option<CustomerId>) -> Result<Vec<CoverageSchool>> {
        let only = match by.customer_scope() {
            Some(own) => Some(own.0),
            None => customer.map(|c| c.0),
        };
        let rows = store::school_systems(&self.db, only).await?;
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut schools: Vec<SchoolSystems> = Vec::new();
        for (id, name, system) in rows {
            let Some(system) = System::parse(&system) else { continue };
            names.entry(id).or_insert(name);
            match schools.last_mut() {
                Some(s) if s.customer_id == id => s.systems.push(system),
                _ => schools.push(SchoolSystems { customer_id: id, systems: vec![system] }),
            }
        }
        let mut held: HashMap<(i64, Phase), i64> = HashMap::new();
        let taught: Vec<Taught> = store::taught(&self.db, only)
            .await?
            .into_iter()
            .filter_map(|r| {
                let phase = Phase::parse(&r.phase)?;
                *held.entry((r.customer_id, phase)).or_default() += 1;
                Some(Taught {
                    customer_id: r.customer_id,
                    phase,
                    systems: r.systems.split(',').filter_map(System::parse).collect(),
                    held_on: r.held_on,
                    people: r.people,
                    administrators: r.administrators,
                })
            })
            .collect();
        let systems_of: HashMap<i64, usize> = schools.iter().map(|s| (s.customer_id, s.systems.len())).collect();
        Ok(coverage(&schools, &taught)
            .into_iter()
            .map(|c: SchoolCoverage| {
                let n = systems_of.get(&c.customer_id).copied().unwrap_or(0) as i64;
                CoverageSchool {
                    customer_name: names.get(&c.customer_id).cloned().unwrap_or_default(),
                    customer_id: c.customer_id,
                    administrator_trained: c.administrator_trained,
                    trained: c.trained,
                    sessions: [Phase::Early, Phase::Mid, Phase::Late]
                        .into_iter()
                        .map(|phase| PhaseSessions {
                            phase,
                            held: held.get(&(c.customer_id, phase)).copied().unwrap_or(0),
                            proposed: i64::from(proposed_sessions(phase)) * n,
                        })
                        .collect(),
                    cells: c.cells,
                }
            })
            .collect())
    }

    /// The schools of a town (the plan form's "every school of a town").
    pub async fn town_school_ids(&self, by: &Actor, town: &str) -> Result<Vec<i64>> {
        require(may_plan(&by.roles))?;
        Ok(aftercare_store::inspections::schools(&self.db, Some(town), &[])
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// The trainings a person gave or attended (his record, and the appraisal's count).
    pub async fn trainings_of(&self, by: &Actor, person: UserId, page: Page) -> Result<Paged<TrainingRow>> {
        require(by.id == person || by.is_admin_or_manager() || by.has(Role::Engineer))?;
        let f = TrainingFilter { person_id: Some(person.0), ..Default::default() };
        Ok(store::list(&self.db, &f, page).await?)
    }
}
