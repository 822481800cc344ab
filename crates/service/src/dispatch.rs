//! The dispatch board: who goes where on which day, and what still waits for a technician
//! (§二 1: 派单 by the engineer or the agent, combining trips to the same town).

use crate::{Actor, Result, Services, require};
use aftercare_domain::Role;
use aftercare_domain::tickets::TicketStatus;
use aftercare_store::Page;
use aftercare_store::tickets::{self as store, TicketQuery, TicketRow};
use chrono::{DateTime, Utc};

/// The most tickets a queue on the board lists (the ticket list has the rest).
const QUEUE_LIMIT: u32 = 200;

/// Everything the board shows for one period.
#[derive(Debug, Clone, Default)]
pub struct DispatchBoard {
    /// Every technician who can be scheduled: (user id, display name).
    pub technicians: Vec<(i64, String)>,
    /// Tickets scheduled within the period (cancelled ones left out), earliest first.
    pub scheduled: Vec<TicketRow>,
    /// (ticket id, technician id) of those tickets.
    pub assignments: Vec<(i64, i64)>,
    /// Diagnosed and waiting for a technician (`to_dispatch`), most urgent first.
    pub to_dispatch: Vec<TicketRow>,
    /// Not diagnosed yet (`new`, `triage`): what will need dispatching next.
    pub upcoming: Vec<TicketRow>,
}

impl Services {
    /// The board for [from, to): the engineer, the agent and the manager plan visits here.
    pub async fn dispatch_board(&self, by: &Actor, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<DispatchBoard> {
        require(by.has_any(&[Role::Engineer, Role::Agent]))?;
        let technicians = self.technicians(by).await?;
        let period = TicketQuery {
            scheduled_from: Some(from),
            scheduled_to: Some(to),
            sort: Some("scheduled".into()),
            ..Default::default()
        };
        let mut scheduled = store::list(&self.db, &period, Page::all()).await?.items;
        scheduled.retain(|t| t.status != TicketStatus::Cancelled);
        let assignments = store::assignments_between(&self.db, from, to).await?;
        let queue = |statuses: &[&str]| TicketQuery {
            statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
            sort: Some("priority".into()),
            ..Default::default()
        };
        let page = Page::new(Some(1), Some(QUEUE_LIMIT));
        let to_dispatch = store::list(&self.db, &queue(&["to_dispatch"]), page).await?.items;
        let upcoming = store::list(&self.db, &queue(&["new", "triage"]), page).await?.items;
        Ok(DispatchBoard { technicians, scheduled, assignments, to_dispatch, upcoming })
    }
}
