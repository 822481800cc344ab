//! The service desk: contact records on every channel, a repair call becoming a ticket in
//! one step, urges logged on the ticket, missed calls with an owner and a due time, the
//! screen pop, PBX call events, complaint reviews and suggestion read receipts.

use crate::{Actor, Result, ServiceError, Services, require};
pub use aftercare_domain::clock::day_bounds;
use aftercare_domain::contacts::{
    Call, CallEvent, CallbackFor, Category, Channel, ContactInput, Direction, Handling, NewContact, Verdict,
    phone_digits,
};
use aftercare_domain::notifications::NotificationKind;
use aftercare_domain::tickets::{TicketInput, TicketStatus};
use aftercare_domain::{ContactId, CustomerId, FieldErrors, Role};
pub use aftercare_store::Page;
use aftercare_store::Paged;
use aftercare_store::contacts::{self as store, ContactPatch, ContactWrite};
pub use aftercare_store::contacts::{ContactQuery, ContactRow, PhoneMatch, ReadRow};
use aftercare_store::customers::CustomerRow;
use aftercare_store::equipment::{EquipmentQuery, EquipmentRow};
pub use aftercare_store::mail::AttachmentRow;
use aftercare_store::notifications::NewNotification;
use aftercare_store::tickets::{TicketQuery, TicketRow};
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use serde::Serialize;

/// What the desk shows the moment a number is typed or a call rings in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScreenPop {
    pub phone: String,
    /// Schools and people this number belongs to (usually one).
    pub matches: Vec<PhoneMatch>,
    /// The first matching school, with its equipment and open tickets.
    pub customer: Option<CustomerRow>,
    pub equipment: Vec<EquipmentRow>,
    pub open_tickets: Vec<TicketRow>,
    /// The last contacts from this number (or with the school).
    pub recent: Vec<ContactRow>,
}

/// A repair call that opens a ticket in the same step.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct OpenTicket {
    pub title: Option<String>,
    #[serde(default)]
    pub equipment_ids: Vec<aftercare_domain::EquipmentId>,
    pub priority: Option<String>,
}

/// A complaint verdict (`POST /api/v1/contacts/{id}/review`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReviewInput {
    /// `valid` or `invalid`.
    pub verdict: Option<String>,
    /// What will be done about it.
    pub action: Option<String>,
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Calling back a missed call or a reviewed complaint.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CallbackInput {
    /// Did the school pick up?
    pub answered: Option<bool>,
    pub content: Option<String>,
}

/// Everything the contact page shows ([`Services::contact_view`]).
#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub contact: ContactRow,
    /// Who has read it (suggestions only).
    pub reads: Vec<ReadRow>,
    /// The outbound call that answered it, if any.
    pub callback: Option<ContactRow>,
    /// Files that came with its email.
    pub files: Vec<AttachmentRow>,
    /// A manager may give a complaint its verdict.
    pub can_review: bool,
    /// Calling back would answer its missed call or its reviewed complaint.
    pub can_call_back: bool,
}

impl Services {
    fn desk_local(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        t.with_timezone(&self.tz).naive_local()
    }

    fn desk_utc(&self, local: chrono::NaiveDateTime) -> DateTime<Utc> {
        self.tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| local.and_utc())
    }

    /// Whether a moment falls outside working hours.
    pub async fn is_after_hours(&self, at: DateTime<Utc>) -> Result<bool> {
        Ok(!self.working_hours().await.is_working(self.desk_local(at)))
    }

    /// Who owns a missed call at `at`: the agent on duty then (else anyone on duty, since
    /// nights are often covered by engineers), else `fallback`.
    async fn missed_owner(&self, at: DateTime<Utc>, fallback: Option<i64>) -> Result<Option<i64>> {
        let duty = self.on_duty(at).await?;
        let agent = duty.iter().find(|s| s.user_roles.split(',').any(|r| Role::parse(r) == Some(Role::Agent)));
        Ok(agent.or(duty.first()).map(|s| s.user_id).or(fallback))
    }

    /// Turns a validated contact into what the store writes: handler, after-hours flag,
    /// missed-call owner and due time.
    pub(crate) async fn contact_write(
        &self,
        by: &Actor,
        mut k: NewContact,
        now: DateTime<Utc>,
    ) -> Result<ContactWrite> {
        // The databases keep microseconds; a row built from this write must equal a read.
        let now = now.trunc_subsecs(6);
        k.received_at = k.received_at.trunc_subsecs(6);
        let hours = self.working_hours().await;
        let local = self.desk_local(k.received_at);
        let after_hours = !hours.is_working(local);
        let inbound = k.direction == Direction::Inbound;
        let missed = !k.answered && inbound;
        let (owner, due) = if missed {
            let due = self.desk_utc(hours.callback_due(local, self.missed_callback_minutes().await));
            (self.missed_owner(k.received_at, Some(by.id.0)).await?, Some(due))
        } else {
            (None, None)
        };
        Ok(ContactWrite {
            channel: k.channel,
            direction: k.direction,
            category: k.category,
            customer_id: k.customer_id.map(|c| c.0),
            caller_name: k.caller_name,
            caller_title: k.caller_title,
            caller_phone: k.caller_phone,
            caller_email: k.caller_email,
            system: k.system,
            urgency: k.urgency,
            content: k.content,
            reply: k.reply,
            handling: k.handling,
            result: None,
            mood: k.mood,
            promised_at: k.promised_at,
            after_hours,
            received_at: k.received_at,
            answered: k.answered,
            answered_at: if k.answered { Some(k.received_at) } else { None },
            ended_at: None,
            wait_seconds: k.wait_seconds,
            talk_seconds: k.talk_seconds,
            handler_id: if missed { None } else { Some(by.id.0) },
            ticket_id: k.ticket_id,
            about_user_id: k.about_user_id,
            callback_owner_id: owner,
            callback_due: due,
            source_ref: None,
            created_by: Some(by.id.0),
            callback_of: None,
            urge: k.handling == Some(Handling::Urge),
            now,
        })
    }

    /// Records a contact; with `open`, a repair contact opens its ticket in the same step.
    pub async fn create_contact(
        &self,
        by: &Actor,
        input: &ContactInput,
        open: Option<&OpenTicket>,
        now: DateTime<Utc>,
    ) -> Result<ContactRow> {
        require(by.is_staff())?;
        // The checks that need the database are made from what was typed, whether or not
        // the form's own rules passed, so that every mistake comes back in one answer.
        let checked = input.validate(now);
        let mut e = FieldErrors::default();
        if let Some(c) = input.customer_id
            && aftercare_store::customers::get(&self.db, c.0).await.is_err()
        {
            e.push("customer_id", "not_found");
        }
        let complaint = input.category.as_deref().and_then(Category::parse) == Some(Category::Complaint);
        if let Some(u) = input.about_user_id.filter(|_| complaint)
            && !self.is_staff_member(u.0).await
        {
            e.push("about_user_id", "not_found");
        }
        // After hours the caller must be told how long to wait (§2.2(2)).
        let inbound = input.direction.as_deref().is_none_or(|d| d.trim().is_empty() || d.trim() == "inbound");
        if input.answered.unwrap_or(true)
            && inbound
            && input.promised_at.is_none()
            && !self.working_hours().await.is_working(self.desk_local(input.received_at.unwrap_or(now)))
        {
            e.push("promised_at", "required_after_hours");
        }
        let mut k = match checked {
            Ok(k) => k,
            Err(mut v) => {
                v.0.extend(e.0);
                return Err(v.into());
            }
        };
        if k.handling == Some(Handling::Urge) {
            match k.ticket_id {
                None => e.push("ticket_id", "required"),
                Some(t) => match aftercare_store::tickets::get(&self.db, t).await {
                    Ok(t) if t.status.is_open() => {
                        if k.customer_id.is_none() {
                            k.customer_id = Some(CustomerId(t.customer_id));
                        }
                    }
                    Ok(_) => e.push("ticket_id", "not_open"),
                    Err(_) => e.push("ticket_id", "not_found"),
                },
            }
        } else if let Some(t) = k.ticket_id
            && aftercare_store::tickets::get(&self.db, t).await.is_err()
        {
            e.push("ticket_id", "not_found");
        }
        if open.is_some() {
            if k.category != Category::Repair {
                e.push("category", "not_repair");
            }
            if k.customer_id.is_none() {
                e.push("customer_id", "required");
            }
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let mut w = self.contact_write(by, k.clone(), now).await?;
        if let Some(o) = open {
            // The ticket first: if it is refused, no contact claims to have opened it.
            let t = self
                .create_ticket(
                    by,
                    &TicketInput {
                        customer_id: k.customer_id,
                        equipment_ids: o.equipment_ids.clone(),
                        system: k.system.map(|s| s.as_str().into()),
                        title: o.title.clone().or_else(|| Some(k.content.chars().take(60).collect())),
                        description: Some(k.content.clone()),
                        source: Some(ticket_source(k.channel).into()),
                        priority: o.priority.clone().or_else(|| {
                            (k.urgency != aftercare_domain::contacts::Urgency::Normal)
                                .then(|| k.urgency.priority().as_str().into())
                        }),
                        reporter_name: k.caller_name.clone(),
                        reporter_phone: k.caller_phone.clone(),
                    },
                    now,
                )
                .await?;
            w.ticket_id = Some(t.ticket.id);
            w.handling = Some(Handling::Ticket);
            w.result = Some("dispatched".into());
        }
        let id = self.contacts.write(&self.db, self.writer(by), w).await?.id;
        let row = store::get(&self.db, id).await?;
        self.after_contact(&row, now).await;
        Ok(row)
    }

    /// Tells the manager of a complaint and leadership of a suggestion. A failure here must
    /// not undo the recorded contact, so it is logged, not returned.
    async fn after_contact(&self, row: &ContactRow, now: DateTime<Utc>) {
        if row.handling == Some(Handling::ToEngineer) {
            self.tell_role_of(row, Role::Engineer, NotificationKind::ConsultationToEngineer, now).await;
        }
        let kind = match row.category {
            Category::Complaint => NotificationKind::Complaint,
            Category::Suggestion => NotificationKind::Suggestion,
            _ => return,
        };
        self.tell_role_of(row, Role::Manager, kind, now).await;
        if row.category == Category::Complaint {
            // Logs its own failures: mail must never undo the recorded complaint.
            let _ = self.mail_complaint(row).await;
        }
    }

    pub async fn get_contact(&self, by: &Actor, id: ContactId) -> Result<ContactRow> {
        require(by.is_staff())?;
        Ok(store::get(&self.db, id.0).await?)
    }

    /// The contact page in one call: the record, who read it (opening a suggestion as
    /// leadership is reading it), the call that answered it, its email's files, and what the
    /// actor may do now. A fixed number of queries.
    pub async fn contact_view(&self, by: &Actor, id: ContactId, now: DateTime<Utc>) -> Result<ContactView> {
        let contact = self.get_contact(by, id).await?;
        let reads = if contact.category == Category::Suggestion {
            if by.is_admin_or_manager() {
                store::mark_read(&self.db, id.0, by.id.0, now).await?;
            }
            store::reads(&self.db, id.0).await?
        } else {
            Vec::new()
        };
        let callback = match contact.callback_contact_id {
            Some(c) => store::get(&self.db, c).await.ok(),
            None => None,
        };
        let files = if contact.channel == Channel::Email {
            aftercare_store::mail::attachments_of_contact(&self.db, id.0).await?
        } else {
            Vec::new()
        };
        Ok(ContactView {
            can_review: by.has(Role::Manager) && contact.category == Category::Complaint,
            can_call_back: contact.callback_for().is_ok(),
            contact,
            reads,
            callback,
            files,
        })
    }

    pub async fn list_contacts(&self, by: &Actor, q: &ContactQuery, page: Page) -> Result<Paged<ContactRow>> {
        require(by.is_staff())?;
        Ok(store::list(&self.db, q, page).await?)
    }

    /// The screen pop: who is calling, their school's equipment and open tickets, and the
    /// last contacts. One school is shown in full; others that share the number are listed.
    pub async fn screen_pop(&self, by: &Actor, phone: &str) -> Result<ScreenPop> {
        require(by.is_staff())?;
        let digits = phone_digits(phone);
        // A caller from an unknown number is found by the school's name instead.
        let by_name = digits.len() < 5;
        let matches = if by_name {
            let q = phone.trim();
            if q.chars().count() < 2 {
                return Err(FieldErrors::single("phone", "invalid").into());
            }
            aftercare_store::customers::list(
                &self.db,
                &aftercare_store::customers::CustomerQuery { q: Some(q.to_owned()), ..Default::default() },
                Page::new(Some(1), Some(5)),
            )
            .await?
            .items
            .into_iter()
            .map(|c| PhoneMatch {
                customer_id: c.id,
                customer_name: c.name,
                town: c.town,
                person_name: None,
                person_title: None,
            })
            .collect()
        } else {
            store::match_phone(&self.db, &digits).await?
        };
        let customer = match matches.first() {
            Some(m) => Some(aftercare_store::customers::get(&self.db, m.customer_id).await?),
            None => None,
        };
        let (equipment, open_tickets) = match &customer {
            Some(c) => {
                let eq = aftercare_store::equipment::list(
                    &self.db,
                    &EquipmentQuery { customer_id: Some(c.id), sort: Some("system".into()), ..Default::default() },
                    Page::new(Some(1), Some(200)),
                )
                .await?
                .items;
                let open = aftercare_store::tickets::list(
                    &self.db,
                    &TicketQuery {
                        customer_id: Some(c.id),
                        statuses: TicketStatus::ALL
                            .iter()
                            .filter(|s| s.is_open())
                            .map(|s| s.as_str().to_owned())
                            .collect(),
                        ..Default::default()
                    },
                    Page::new(Some(1), Some(20)),
                )
                .await?
                .items;
                (eq, open)
            }
            None => (Vec::new(), Vec::new()),
        };
        let mut recent = if by_name { Vec::new() } else { store::recent_by_phone(&self.db, &digits, 10).await? };
        if recent.is_empty()
            && let Some(c) = &customer
        {
            recent = store::recent_by_customer(&self.db, c.id, 10).await?;
        }
        Ok(ScreenPop { phone: phone.trim().to_owned(), matches, customer, equipment, open_tickets, recent })
    }

    /// A call event from the PBX. The token's user must hold the `agent` role; answered
    /// calls become contacts of the agent who took them, unanswered ones missed calls.
    pub async fn telephony_call(&self, by: &Actor, ev: &CallEvent, now: DateTime<Utc>) -> Result<ContactRow> {
        require(by.has(Role::Agent))?;
        let call = ev.validate()?;
        let handler = match &call.agent_username {
            Some(name) => match self.caches.user(name) {
                Some(a) => Some(a),
                None => match aftercare_store::users::by_username(&self.db, name).await? {
                    Some(u) if u.active => {
                        let a = crate::auth::actor_from_row(&u);
                        self.caches.put_user(a.clone());
                        Some(a)
                    }
                    _ => return Err(FieldErrors::single("agent_username", "not_found").into()),
                },
            },
            None => None,
        };
        let handler = handler.unwrap_or_else(|| by.clone());
        let (w, school) = self.call_write(&handler, &call, now).await?;
        // The PBX reports every call: answer from what was written rather than read it back.
        let owner_name = match w.callback_owner_id {
            Some(o) if o == handler.id.0 => Some(handler.display_name.clone()),
            Some(o) => aftercare_store::users::get(&self.db, o).await.ok().map(|u| u.display_name),
            None => None,
        };
        let names = store::KnownNames {
            customer_name: school.as_ref().map(|m| m.customer_name.clone()),
            town: school.map(|m| m.town),
            handler_name: w.handler_id.map(|_| handler.display_name.clone()),
            callback_owner_name: owner_name,
            about_user_name: None,
        };
        let made = self.contacts.write(&self.db, self.writer(&handler), w.clone()).await?;
        if !made.new {
            // A repeated event answers with the record as it stands.
            return Ok(store::get(&self.db, made.id).await?);
        }
        Ok(ContactRow::fresh(made.id, made.record_no, &w, names))
    }

    async fn call_write(
        &self,
        handler: &Actor,
        call: &Call,
        now: DateTime<Utc>,
    ) -> Result<(ContactWrite, Option<PhoneMatch>)> {
        let phone = call.school_phone().to_owned();
        let digits = phone_digits(&phone);
        let known = if digits.is_empty() { Vec::new() } else { store::match_phone(&self.db, &digits).await? };
        let person = known.first();
        let input = ContactInput {
            channel: Some("phone".into()),
            direction: Some(call.direction.as_str().into()),
            category: Some("other".into()),
            customer_id: person.map(|m| CustomerId(m.customer_id)),
            caller_name: person.and_then(|m| m.person_name.clone()),
            caller_title: person.and_then(|m| m.person_title.clone()),
            caller_phone: aftercare_domain::customers::is_phone(&phone).then_some(phone),
            received_at: Some(call.started_at),
            answered: Some(call.answered_at.is_some()),
            wait_seconds: Some(call.wait_seconds()),
            talk_seconds: call.talk_seconds(),
            // The agent fills in what was said on the desk; the PBX knows only that it rang.
            content: Some(String::new()),
            ..Default::default()
        };
        // Content is required of a person's entry, not of a PBX event.
        let mut e = FieldErrors::default();
        let k = match input.validate(now.max(call.started_at)) {
            Ok(k) => k,
            Err(errs) => {
                for f in errs.0.into_iter().filter(|f| f.field != "content") {
                    e.0.push(f);
                }
                if !e.is_empty() {
                    return Err(e.into());
                }
                NewContact {
                    channel: aftercare_domain::contacts::Channel::Phone,
                    direction: call.direction,
                    category: Category::Other,
                    customer_id: input.customer_id,
                    caller_name: input.caller_name,
                    caller_title: input.caller_title,
                    caller_phone: input.caller_phone,
                    caller_email: None,
                    system: None,
                    urgency: aftercare_domain::contacts::Urgency::Normal,
                    content: String::new(),
                    reply: None,
                    handling: None,
                    mood: None,
                    received_at: call.started_at,
                    answered: call.answered_at.is_some(),
                    promised_at: None,
                    wait_seconds: Some(call.wait_seconds()),
                    talk_seconds: call.talk_seconds(),
                    ticket_id: None,
                    about_user_id: None,
                }
            }
        };
        let mut w = self.contact_write(handler, k, now).await?;
        w.answered_at = call.answered_at.map(|t| t.trunc_subsecs(6));
        w.ended_at = Some(call.ended_at.trunc_subsecs(6));
        w.source_ref = call.call_id.as_ref().map(|c| format!("pbx:{c}"));
        Ok((w, known.into_iter().next()))
    }

    /// Fills in what was said on a contact (the desk completes a PBX record).
    pub async fn update_contact(
        &self,
        by: &Actor,
        id: ContactId,
        input: &ContactInput,
        version: Option<i64>,
    ) -> Result<ContactRow> {
        let id = id.0;
        require(by.is_staff())?;
        let row = store::get(&self.db, id).await?;
        // What the input leaves out stays as it is.
        let keep = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        let merged = ContactInput {
            channel: input.channel.clone().or(Some(row.channel.as_str().into())),
            direction: Some(row.direction.as_str().into()),
            category: input.category.clone().or(Some(row.category.as_str().into())),
            customer_id: input.customer_id.or(row.customer_id.map(CustomerId)),
            caller_name: keep(&input.caller_name, &row.caller_name),
            caller_title: keep(&input.caller_title, &row.caller_title),
            caller_phone: keep(&input.caller_phone, &row.caller_phone),
            caller_email: keep(&input.caller_email, &row.caller_email),
            system: keep(&input.system, &row.system.map(|s| s.as_str().into())),
            urgency: input.urgency.clone().or(Some(row.urgency.as_str().into())),
            content: input.content.clone().or(Some(row.content.clone())),
            reply: keep(&input.reply, &row.reply),
            handling: keep(&input.handling, &row.handling.map(|h| h.as_str().into())),
            mood: keep(&input.mood, &row.mood),
            received_at: Some(row.received_at),
            answered: Some(row.answered),
            promised_at: input.promised_at.or(row.promised_at),
            wait_seconds: input.wait_seconds.or(row.wait_seconds),
            talk_seconds: input.talk_seconds.or(row.talk_seconds),
            ticket_id: input.ticket_id.or(row.ticket_id),
            about_user_id: input.about_user_id.or(row.about_user_id.map(aftercare_domain::UserId)),
        };
        let k = merged.validate(Utc::now().max(row.received_at))?;
        if let Some(c) = k.customer_id
            && aftercare_store::customers::get(&self.db, c.0).await.is_err()
        {
            return Err(FieldErrors::single("customer_id", "not_found").into());
        }
        if let Some(u) = k.about_user_id
            && !self.is_staff_member(u).await
        {
            return Err(FieldErrors::single("about_user_id", "not_found").into());
        }
        let newly_to_engineer = k.handling == Some(Handling::ToEngineer) && row.handling != Some(Handling::ToEngineer);
        let patch = ContactPatch {
            channel: Some(k.channel),
            category: Some(k.category),
            customer_id: Some(k.customer_id.map(|c| c.0)),
            caller_name: Some(k.caller_name.clone()),
            caller_title: Some(k.caller_title.clone()),
            system: Some(k.system),
            urgency: Some(k.urgency),
            content: Some(k.content.clone()),
            reply: Some(k.reply.clone()),
            handling: Some(k.handling),
            mood: Some(k.mood.clone()),
            promised_at: Some(k.promised_at),
            about_user_id: Some(k.about_user_id),
            ..Default::default()
        };
        store::update(
            &self.db,
            &self.writer(by),
            id,
            version,
            &patch,
            "update",
            serde_json::json!({"category": k.category.as_str(), "customer_id": k.customer_id.map(|c| c.0)}),
        )
        .await?;
        let row = store::get(&self.db, id).await?;
        if newly_to_engineer {
            self.tell_role_of(&row, Role::Engineer, NotificationKind::ConsultationToEngineer, Utc::now()).await;
        }
        Ok(row)
    }

    /// An active member of staff (a complaint names the person it is about).
    async fn is_staff_member(&self, id: i64) -> bool {
        aftercare_store::users::get(&self.db, id)
            .await
            .is_ok_and(|u| u.active && u.customer_id.is_none() && !u.roles.contains("customer"))
    }

    /// Everyone with `role` hears of a contact (the managers of a complaint, the engineers of
    /// a consultation handed to them). Logged, not returned: the recorded contact stands
    /// either way.
    async fn tell_role_of(&self, row: &ContactRow, role: Role, kind: NotificationKind, now: DateTime<Utc>) {
        let people = match aftercare_store::users::with_role(&self.db, role.as_str()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("listing the {role} for {}: {e}", row.record_no);
                return;
            }
        };
        let title = row.customer_name.clone().unwrap_or_else(|| row.content.chars().take(30).collect());
        let args = serde_json::json!({"contact_id": row.id, "number": row.record_no, "title": title});
        let list: Vec<NewNotification> =
            people.iter().map(|u| NewNotification { user_id: u.id, kind, args: args.clone() }).collect();
        if let Err(e) = aftercare_store::notifications::notify(&self.db, row.ticket_id, &list, now).await {
            tracing::warn!("notifying the {role} of {}: {e}", row.record_no);
        }
    }

    /// The manager's verdict on a complaint (§2.2(1)).
    pub async fn review_complaint(
        &self,
        by: &Actor,
        id: ContactId,
        input: &ReviewInput,
        now: DateTime<Utc>,
    ) -> Result<ContactRow> {
        let id = id.0;
        require(by.has(Role::Manager))?;
        let row = store::get(&self.db, id).await?;
        if row.category != Category::Complaint {
            return Err(ServiceError::Transition { action: "review", status: "new", reason: Some("not_complaint") });
        }
        let mut e = FieldErrors::default();
        let verdict = match input.verdict.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("verdict", "required");
                None
            }
            Some(v) => {
                let p = Verdict::parse(v);
                if p.is_none() {
                    e.push("verdict", "unknown_value");
                }
                p
            }
        };
        let action = aftercare_domain::validation::optional(&mut e, "action", input.action.as_deref(), 2000);
        let note = aftercare_domain::validation::optional(&mut e, "note", input.note.as_deref(), 2000);
        let Some(verdict) = verdict.filter(|_| e.is_empty()) else { return Err(e.into()) };
        store::update(
            &self.db,
            &self.writer(by),
            id,
            input.version,
            &ContactPatch {
                review_verdict: Some(verdict),
                review_action: Some(action.clone()),
                review_note: Some(note.clone()),
                reviewed_by: Some(by.id.0),
                reviewed_at: Some(now),
                // The school is called back about it: the owner is who took the complaint.
                callback_due: Some(now + Duration::days(1)),
                ..Default::default()
            },
            "review",
            serde_json::json!({"verdict": verdict.as_str(), "action": action, "note": note}),
        )
        .await?;
        if let Some(h) = row.handler_id {
            let n = NewNotification {
                user_id: h,
                kind: NotificationKind::ComplaintReviewed,
                args: serde_json::json!({"contact_id": id, "number": row.record_no, "reason": verdict.as_str()}),
            };
            if let Err(e) = aftercare_store::notifications::notify(&self.db, row.ticket_id, &[n], now).await {
                tracing::warn!("notifying of the review of {}: {e}", row.record_no);
            }
        }
        Ok(store::get(&self.db, id).await?)
    }

    /// Calls the school back about a missed call or a reviewed complaint: records the
    /// outbound call and closes what it answers.
    pub async fn call_back(
        &self,
        by: &Actor,
        id: ContactId,
        input: &CallbackInput,
        now: DateTime<Utc>,
    ) -> Result<ContactRow> {
        let id = id.0;
        require(by.is_staff())?;
        let row = store::get(&self.db, id).await?;
        let answers = row.callback_for().map_err(|reason| ServiceError::Transition {
            action: "callback",
            status: "new",
            reason: Some(reason),
        })?;
        let missed_open = answers == CallbackFor::MissedCall;
        let complaint_open = answers == CallbackFor::Complaint;
        // Passing on the engineer's answer closes the consultation like a complaint's call.
        let closes = complaint_open || answers == CallbackFor::Consultation;
        let answered = input.answered.unwrap_or(true);
        let content = input.content.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if answered && content.is_none() {
            return Err(FieldErrors::single("content", "required").into());
        }
        let k = NewContact {
            channel: aftercare_domain::contacts::Channel::Phone,
            direction: Direction::Outbound,
            category: match answers {
                CallbackFor::Complaint => Category::Complaint,
                CallbackFor::Consultation => Category::Consultation,
                CallbackFor::MissedCall => Category::Other,
            },
            customer_id: row.customer_id.map(CustomerId),
            caller_name: row.caller_name.clone(),
            caller_title: row.caller_title.clone(),
            caller_phone: row.caller_phone.clone(),
            caller_email: None,
            system: row.system,
            urgency: aftercare_domain::contacts::Urgency::Normal,
            content: content.unwrap_or_default().to_owned(),
            reply: None,
            handling: None,
            mood: None,
            received_at: now,
            answered,
            promised_at: None,
            wait_seconds: None,
            talk_seconds: None,
            ticket_id: row.ticket_id,
            about_user_id: None,
        };
        let mut w = self.contact_write(by, k, now).await?;
        w.callback_of = missed_open.then_some(id);
        w.handler_id = Some(by.id.0);
        let new_id = self.contacts.write(&self.db, self.writer(by), w).await?.id;
        if closes && answered {
            store::update(
                &self.db,
                &self.writer(by),
                id,
                None,
                &ContactPatch { closed_at: Some(now), callback_contact_id: Some(new_id), ..Default::default() },
                "close",
                serde_json::json!({"callback_contact_id": new_id}),
            )
            .await?;
        }
        Ok(store::get(&self.db, new_id).await?)
    }

    /// Leadership reads a suggestion (§2.2(4)); the first reading is kept as the receipt.
    pub async fn read_suggestion(&self, by: &Actor, id: ContactId, now: DateTime<Utc>) -> Result<Vec<ReadRow>> {
        let id = id.0;
        require(by.is_staff())?;
        let row = store::get(&self.db, id).await?;
        if row.category != Category::Suggestion {
            return Err(ServiceError::NotFound);
        }
        if by.is_admin_or_manager() {
            store::mark_read(&self.db, id, by.id.0, now).await?;
        }
        Ok(store::reads(&self.db, id).await?)
    }

    pub async fn unread_suggestions(&self, by: &Actor) -> Result<i64> {
        if !by.is_admin_or_manager() {
            return Ok(0);
        }
        Ok(store::unread_suggestions(&self.db, by.id.0).await?)
    }

    /// Proposes the §3.2.8 penalty for every missed call in working hours not called back
    /// by its due time. Run by the minute job with the real clock, by tests with theirs.
    pub async fn check_missed_calls(&self, now: DateTime<Utc>) -> Result<usize> {
        let due = store::overdue_missed(&self.db, now).await?;
        for (contact, owner, record_no) in &due {
            store::propose_missed_penalty(&self.db, *contact, *owner, record_no, now).await?;
        }
        Ok(due.len())
    }
}

/// The ticket source a contact's channel implies.
fn ticket_source(c: aftercare_domain::contacts::Channel) -> &'static str {
    use aftercare_domain::contacts::Channel as C;
    match c {
        C::Phone | C::Fax => "phone",
        C::Email => "email",
        C::Im => "im",
        C::Web => "portal",
        C::WalkIn => "walk_in",
        C::Other => "other",
    }
}
