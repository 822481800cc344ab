//! The school portal (学校报修平台): what a school administrator (role `customer`, bound to
//! one school) sees and does — its open and recent tickets, reporting a fault with photos,
//! following a ticket on a timeline written for the school, confirming the repair and
//! rating it, which is the ticket's `callback` when it comes before the agent's call.
//! Scoped to the user's own school everywhere: another school's ticket is "not found".

use crate::attachments::{Upload, check_uploads};
use crate::tickets::{ActionBody, TicketDetail};
use crate::{Actor, Result, ServiceError, Services};
use aftercare_domain::equipment::EquipmentStatus;
use aftercare_domain::tickets::{EventKind, TicketInput, TicketStatus};
use aftercare_domain::{CustomerId, FieldErrors, Role};
pub use aftercare_store::Page;
use aftercare_store::attachments::AttachmentMeta;
use aftercare_store::equipment::EquipmentQuery;
pub use aftercare_store::equipment::EquipmentRow;
pub use aftercare_store::tickets::TicketRow;
use aftercare_store::tickets::{self as store, EventRow, TicketQuery};
use aftercare_store::visits::VisitRow;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Closed and cancelled tickets shown on the home page.
pub const RECENT_DONE: u32 = 10;
/// Open tickets shown on the home page (a school rarely has more).
const OPEN_SHOWN: u32 = 100;
const MAX_NOTE_CHARS: usize = 1000;

/// The statuses a school still follows (resolved waits for its confirmation).
pub const FOLLOWED: [&str; 7] = ["new", "triage", "to_dispatch", "scheduled", "in_progress", "on_hold", "resolved"];

/// The portal's start page.
#[derive(Debug, Clone)]
pub struct PortalHome {
    pub school_name: String,
    /// Still being worked on, or resolved and waiting for the school's confirmation; newest first.
    pub open: Vec<TicketRow>,
    /// Closed or cancelled, most recently finished first.
    pub done: Vec<TicketRow>,
}

/// Who reports: prefilled from the signed-in user.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub name: String,
    pub phone: Option<String>,
}

/// One entry of the school's timeline: only what the school should read (no internal
/// notes, no diagnosis, no SLA or penalty bookkeeping).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchoolEvent {
    pub at: DateTime<Utc>,
    /// `created`, an action (`accept`, `diagnose`, `schedule`, `decline`, `start`, `escalate`,
    /// `hold`, `resume`, `resolve`, `callback`, `close`, `reopen`, `cancel`), `visit`,
    /// `comment`, `attachment`.
    pub kind: String,
    pub actor: String,
    /// Written by the signed-in user.
    pub mine: bool,
    pub to_status: Option<TicketStatus>,
    /// A comment, the work done on a visit, the resolution, or the school's own note.
    pub text: Option<String>,
    /// `schedule`: the time agreed for the visit, and who comes.
    pub scheduled_at: Option<DateTime<Utc>>,
    pub technicians: Vec<String>,
    /// `visit`: how it ended and who signed for the school.
    pub visit_result: Option<String>,
    pub signer: Option<String>,
    /// `callback`: the rating and whether it was really fixed.
    pub satisfaction: Option<i64>,
    pub fixed: Option<bool>,
    /// `callback` done by the school itself (on the portal), not on the agent's call.
    pub by_school: bool,
    /// `attachment`: how many photos.
    pub photos: i64,
}

/// A ticket as the school follows it.
#[derive(Debug, Clone)]
pub struct PortalTicket {
    pub detail: TicketDetail,
    pub equipment: Vec<EquipmentRow>,
    /// Names of the technicians assigned now.
    pub technicians: Vec<String>,
    /// Names of who went on each visit, in the order of `detail.visits`.
    pub visit_technicians: Vec<Vec<String>>,
    /// Oldest first.
    pub timeline: Vec<SchoolEvent>,
    pub attachments: Vec<AttachmentMeta>,
    /// Photos taken on the visits: (visit id, photo id).
    pub photos: Vec<(i64, i64)>,
}

/// A ticket's status as the portal reads it: the one place that turns the row's value
/// into the domain's [`TicketStatus`].
pub fn status_of(t: &TicketRow) -> Option<TicketStatus> {
    Some(t.status)
}

impl PortalTicket {
    pub fn status(&self) -> Option<TicketStatus> {
        status_of(&self.detail.ticket)
    }

    /// Still in our hands or awaiting the school: neither closed nor cancelled.
    pub fn in_hand(&self) -> bool {
        !matches!(self.status(), Some(TicketStatus::Closed | TicketStatus::Cancelled))
    }

    pub fn is_closed(&self) -> bool {
        self.status() == Some(TicketStatus::Closed)
    }

    /// A visit is planned or under way, so its time is worth showing.
    pub fn visit_due(&self) -> bool {
        matches!(self.status(), Some(TicketStatus::Scheduled | TicketStatus::InProgress | TicketStatus::OnHold))
    }
}

/// The school's answer to "is it really fixed, and how did we do?".
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// Really fixed? `None`: not answered.
    pub resolved: Option<bool>,
    /// 1..5.
    pub satisfaction: Option<i32>,
    pub note: Option<String>,
    pub version: Option<i64>,
}

fn names_of(ids: impl IntoIterator<Item = i64>, names: &HashMap<i64, String>) -> Vec<String> {
    ids.into_iter().map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))).collect()
}

/// The ticket's events as the school reads them. `me` is the signed-in user; `names` maps
/// staff ids to names; `visits` are the ticket's visits (for who went).
pub fn school_timeline(
    events: &[EventRow],
    me: i64,
    names: &HashMap<i64, String>,
    visits: &[VisitRow],
) -> Vec<SchoolEvent> {
    let mut out = Vec::new();
    for e in events {
        let data: serde_json::Value =
            e.data_json.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
        let mut ev = SchoolEvent {
            at: e.at,
            actor: e.actor_name.clone(),
            mine: e.actor_id == Some(me),
            to_status: e.to_status,
            ..Default::default()
        };
        match e.kind {
            EventKind::Created => ev.kind = "created".into(),
            EventKind::Comment => {
                ev.kind = "comment".into();
                ev.text = e.note.clone();
            }
            EventKind::Attachment => {
                ev.kind = "attachment".into();
                ev.photos = data["count"].as_i64().unwrap_or(0);
            }
            EventKind::Visit => {
                ev.kind = "visit".into();
                ev.text = e.note.clone();
                ev.visit_result = data["result"].as_str().map(str::to_owned);
                ev.signer = data["signed_by"].as_str().map(str::to_owned);
                if let Some(v) = visits.iter().find(|v| Some(v.id) == data["visit_id"].as_i64()) {
                    ev.technicians = names_of(v.technician_ids.split(',').filter_map(|x| x.trim().parse().ok()), names);
                }
            }
            EventKind::Action => {
                let Some(action) = data["action"].as_str() else { continue };
                ev.kind = action.to_owned();
                match action {
                    "schedule" => {
                        ev.scheduled_at = data["scheduled_at"]
                            .as_str()
                            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                            .map(|d| d.with_timezone(&Utc));
                        let ids = data["technician_ids"].as_array().into_iter().flatten().filter_map(|x| x.as_i64());
                        ev.technicians = names_of(ids, names);
                    }
                    // The resolution says what was done; the school signed for it anyway.
                    "resolve" => ev.text = e.note.clone(),
                    "callback" => {
                        ev.satisfaction = data["satisfaction"].as_i64();
                        ev.fixed = data["resolved"].as_bool();
                        ev.by_school = data["by_school"].as_bool().unwrap_or(false);
                        // Its own words back; the agent's call notes stay internal.
                        if ev.by_school {
                            ev.text = e.note.clone();
                        }
                    }
                    _ => {}
                }
            }
            // Diagnoses, SLA breaches, penalties, call attempts: internal.
            _ => continue,
        }
        out.push(ev);
    }
    out
}

impl Services {
    /// The school of a school user; anyone else has no portal.
    fn portal_school(by: &Actor) -> Result<CustomerId> {
        match (by.has(Role::Customer), by.customer_id) {
            (true, Some(c)) => Ok(c),
            _ => Err(ServiceError::Forbidden),
        }
    }

    pub async fn portal_home(&self, by: &Actor) -> Result<PortalHome> {
        let school = Self::portal_school(by)?;
        let school_name = aftercare_store::customers::get(&self.db, school.0).await?.name;
        let open = TicketQuery {
            statuses: FOLLOWED.iter().map(|s| (*s).to_owned()).collect(),
            sort: Some("newest".into()),
            ..Default::default()
        };
        let open = self.list_tickets(by, open, Page::new(Some(1), Some(OPEN_SHOWN))).await?.items;
        let done = TicketQuery {
            statuses: vec!["closed".into(), "cancelled".into()],
            sort: Some("updated".into()),
            ..Default::default()
        };
        let done = self.list_tickets(by, done, Page::new(Some(1), Some(RECENT_DONE))).await?.items;
        Ok(PortalHome { school_name, open, done })
    }

    /// The school's own equipment that can still fail (not retired), by system and kind.
    pub async fn portal_equipment(&self, by: &Actor) -> Result<Vec<EquipmentRow>> {
        let school = Self::portal_school(by)?;
        let q = EquipmentQuery { customer_id: Some(school.0), sort: Some("kind".into()), ..Default::default() };
        let mut rows = self.list_equipment(by, q, Page::all()).await?.items;
        rows.retain(|e| e.status != EquipmentStatus::Retired);
        // By the system's name, as the page always listed them.
        rows.sort_by(|a, b| (a.system.as_str(), &a.kind, &a.location).cmp(&(b.system.as_str(), &b.kind, &b.location)));
        Ok(rows)
    }

    /// Name and phone to prefill the report with: the signed-in person's, or, when the
    /// account has no phone (a school's shared login), the school's own contact person.
    pub async fn portal_reporter(&self, by: &Actor) -> Result<Reporter> {
        let school = Self::portal_school(by)?;
        let u = aftercare_store::users::get(&self.db, by.id.0).await?;
        if u.phone.as_deref().is_some_and(|p| !p.trim().is_empty()) {
            return Ok(Reporter { name: u.display_name, phone: u.phone });
        }
        let site = aftercare_store::customers::sites(&self.db, &[school.0]).await?.into_iter().next();
        match site.and_then(|s| s.contact_phone.map(|p| (s.contact_name, p))) {
            Some((name, phone)) => Ok(Reporter { name: name.unwrap_or(u.display_name), phone: Some(phone) }),
            None => Ok(Reporter { name: u.display_name, phone: None }),
        }
    }

    /// Reports a fault for the user's own school, with photos. Every field and photo is
    /// checked before anything is written, so a rejected report changes nothing; the ticket
    /// is opened through [`Services::create_ticket`] (source `portal`, priority proposed from
    /// the equipment). Photo errors name `photos[i]`.
    pub async fn report_fault(
        &self,
        by: &Actor,
        input: &TicketInput,
        photos: &[Upload],
        now: DateTime<Utc>,
    ) -> Result<TicketDetail> {
        let school = Self::portal_school(by)?;
        let input = TicketInput { customer_id: Some(school), source: None, priority: None, ..input.clone() };
        let mut errors = FieldErrors::default();
        if let Err(e) = input.validate() {
            errors.0.extend(e.0);
        }
        if let Err(e) = check_uploads("photos", photos, 0) {
            errors.0.extend(e.0);
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let d = self.create_ticket(by, &input, now).await?;
        if !photos.is_empty() {
            self.add_attachments(by, aftercare_domain::TicketId(d.ticket.id), "photos", photos, now).await?;
        }
        Ok(d)
    }

    /// A ticket of the user's school with everything the school's page shows.
    pub async fn portal_ticket(&self, by: &Actor, id: aftercare_domain::TicketId) -> Result<PortalTicket> {
        let id = id.0;
        Self::portal_school(by)?;
        let detail = self.get_ticket(by, aftercare_domain::TicketId(id)).await?;
        let mut equipment = Vec::new();
        for e in &detail.equipment_ids {
            equipment.push(aftercare_store::equipment::get(&self.db, *e).await?);
        }
        let names: HashMap<i64, String> = aftercare_store::users::with_role(&self.db, Role::Technician.as_str())
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let technicians = names_of(detail.technician_ids.iter().copied(), &names);
        let visit_technicians = detail
            .visits
            .iter()
            .map(|v| names_of(v.technician_ids.split(',').filter_map(|x| x.trim().parse().ok()), &names))
            .collect();
        let events = store::events(&self.db, id).await?;
        let timeline = school_timeline(&events, by.id.0, &names, &detail.visits);
        let attachments = self.attachments_of(&detail).await?;
        let photos = aftercare_store::visits::photos_of(&self.db, id).await?;
        Ok(PortalTicket { detail, equipment, technicians, visit_technicians, timeline, attachments, photos })
    }

    /// The school confirms (or not) that its resolved ticket is really fixed and rates the
    /// service: the ticket's `callback`, done by the school. Fixed closes the ticket; not
    /// fixed sends it back to the engineer (triage). A bad rating changes nothing.
    pub async fn confirm_repair(
        &self,
        by: &Actor,
        id: aftercare_domain::TicketId,
        c: &Confirmation,
        now: DateTime<Utc>,
    ) -> Result<TicketDetail> {
        let id = id.0;
        Self::portal_school(by)?;
        let note = c.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            return Err(FieldErrors::single("note", "too_long").into());
        }
        let body = ActionBody {
            version: c.version,
            note,
            satisfaction: c.satisfaction,
            resolved: c.resolved,
            ..Default::default()
        };
        self.ticket_action(by, aftercare_domain::TicketId(id), "callback", &body, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, actor: i64, kind: &str, note: Option<&str>, data: serde_json::Value) -> EventRow {
        EventRow {
            id,
            ticket_id: 1,
            at: DateTime::<Utc>::default(),
            actor_id: Some(actor),
            actor_name: format!("user{actor}"),
            kind: EventKind::parse(kind).unwrap(),
            from_status: None,
            to_status: None,
            note: note.map(str::to_owned),
            data_json: Some(data.to_string()),
        }
    }

    #[test]
    fn the_school_reads_its_own_words_and_the_facts_but_no_internal_notes() {
        let names = HashMap::from([(7, "张师傅".to_owned())]);
        let events = vec![
            ev(1, 3, "created", Some("投影仪不亮"), serde_json::json!({})),
            ev(2, 5, "action", Some("内部: 可能是灯泡"), serde_json::json!({"action": "accept"})),
            ev(3, 5, "diagnosis", Some("更换灯泡"), serde_json::json!({"fault_type": "hardware"})),
            ev(
                4,
                5,
                "action",
                None,
                serde_json::json!({"action": "schedule", "technician_ids": [7], "scheduled_at": "2026-12-01T01:00:00Z"}),
            ),
            ev(5, 9, "sla_breach", None, serde_json::json!({"clocks": ["respond"]})),
            ev(6, 3, "comment", Some("下午两点后有人"), serde_json::json!(null)),
            ev(7, 7, "action", Some("已更换灯泡"), serde_json::json!({"action": "resolve"})),
            ev(
                8,
                3,
                "action",
                Some("谢谢"),
                serde_json::json!({"action": "callback", "satisfaction": 5, "resolved": true, "by_school": true}),
            ),
        ];
        let tl = school_timeline(&events, 3, &names, &[]);
        let kinds: Vec<&str> = tl.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["created", "accept", "schedule", "comment", "resolve", "callback"]);
        assert_eq!(tl[1].text, None, "the accept note is internal");
        assert_eq!(tl[2].technicians, ["张师傅"]);
        assert!(tl[2].scheduled_at.is_some());
        assert!(tl[3].mine && tl[3].text.as_deref() == Some("下午两点后有人"));
        assert_eq!(tl[4].text.as_deref(), Some("已更换灯泡"));
        assert!(tl[5].by_school && tl[5].fixed == Some(true) && tl[5].satisfaction == Some(5));
        assert_eq!(tl[5].text.as_deref(), Some("谢谢"));
        // The agent's call notes are not the school's words.
        let agent = ev(
            9,
            4,
            "action",
            Some("王老师说还行"),
            serde_json::json!({"action": "callback", "satisfaction": 4, "resolved": true}),
        );
        let tl = school_timeline(&[agent], 3, &names, &[]);
        assert_eq!((tl[0].by_school, tl[0].text.clone()), (false, None));
    }
}
