//! The dispatch board: technicians × the days of a week, each cell with the visits of that
//! technician that day, their load and the towns they go to; beside it, what waits for a
//! technician.

use super::PageQuery;
use super::tickets::{Row, sla_of};
use super::{Ctx, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::clock::day_bounds;
use aftercare_domain::tickets::DAILY_VISIT_LIMIT;
use aftercare_service::tickets::TicketRow;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

/// Days on the board.
const DAYS: i64 = 7;

/// One ticket in a cell.
pub struct Item {
    pub id: i64,
    pub time: String,
    pub number: String,
    pub title: String,
    pub school: String,
    pub town: String,
    pub status: String,
    pub priority: String,
}

pub struct Cell {
    pub id: String,
    pub day: String,
    pub today: bool,
    pub items: Vec<Item>,
    /// The distinct towns of the day, in visiting order.
    pub towns: Vec<String>,
}

impl Cell {
    /// A heat class for the cell's load.
    pub fn load(&self) -> &'static str {
        match self.items.len() {
            0 => "load-0",
            1 | 2 => "load-1",
            n if n <= DAILY_VISIT_LIMIT => "load-2",
            _ => "load-3",
        }
    }
    /// More visits than one person can do in a day.
    pub fn over_limit(&self) -> bool {
        self.items.len() > DAILY_VISIT_LIMIT
    }
}

pub struct TechRow {
    pub id: i64,
    pub name: String,
    pub cells: Vec<Cell>,
    pub total: usize,
}

pub struct Day {
    pub date: String,
    pub label: String,
    pub weekday: String,
    pub today: bool,
    pub weekend: bool,
    pub total: usize,
}

#[derive(Template)]
#[template(path = "dispatch.html")]
pub struct DispatchPage {
    pub c: Ctx,
    pub days: Vec<Day>,
    pub rows: Vec<TechRow>,
    pub to_dispatch: Vec<Row>,
    pub upcoming: Vec<Row>,
    pub from: String,
    pub period: String,
    pub prev: String,
    pub next: String,
    pub scheduled: usize,
    pub busiest: usize,
    /// Who is over the daily limit on which day: (name, day label, visits).
    pub over: Vec<(String, String, usize)>,
}

impl DispatchPage {
    pub fn week_count(&self) -> String {
        self.c.tr.tf("dispatch.week_count", &[("n", &self.scheduled.to_string())])
    }
    pub fn load_label(&self, n: impl std::fmt::Display) -> String {
        self.c.tr.tf("dispatch.load", &[("n", &n.to_string())])
    }
    pub fn towns_label(&self, n: impl std::fmt::Display) -> String {
        self.c.tr.tf("dispatch.towns", &[("n", &n.to_string())])
    }
    pub fn limit_n(&self) -> usize {
        DAILY_VISIT_LIMIT
    }
    /// The legend of the load colours, with the limit it warns at.
    pub fn limit_label(&self) -> String {
        self.c.tr.tf("dispatch.limit", &[("n", &DAILY_VISIT_LIMIT.to_string())])
    }
    pub fn over_label(&self, o: &(String, String, usize)) -> String {
        let n = o.2.to_string();
        let limit = DAILY_VISIT_LIMIT.to_string();
        self.c.tr.tf("dispatch.over", &[("name", &o.0), ("day", &o.1), ("n", &n), ("limit", &limit)])
    }
    pub fn busiest_label(&self) -> String {
        self.c.tr.tf("dispatch.busiest", &[("n", &self.busiest.to_string())])
    }
    /// The first character of a name, for the avatar.
    pub fn initial(&self, name: &str) -> String {
        name.chars().next().map(String::from).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct BoardParams {
    pub from: Option<String>,
}

fn item(t: &TicketRow, tz: chrono_tz::Tz) -> Item {
    Item {
        id: t.id,
        time: t.scheduled_at.map(|s| s.with_timezone(&tz).format("%H:%M").to_string()).unwrap_or_default(),
        number: t.number.clone(),
        title: t.title.clone(),
        school: t.customer_name.clone(),
        town: t.town.clone(),
        status: t.status.as_str().into(),
        priority: t.priority.as_str().into(),
    }
}

pub async fn view_dispatch_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<BoardParams>,
) -> Result<Response, PageError> {
    let tz = st.cfg.tz;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let from = p.from.as_deref().and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()).unwrap_or(today);
    let last = from + Duration::days(DAYS - 1);
    let (start, _) = day_bounds(from, tz);
    let (_, end) = day_bounds(last, tz);
    let board = st.svc.dispatch_board(&u.actor, start, end).await?;
    let title = u.tr.t("nav.dispatch");
    let c = Ctx::new(&st, &u, "/dispatch", title.clone()).crumb(title, "/dispatch");

    let day_of = |t: &TicketRow| t.scheduled_at.map(|s| (s.with_timezone(&tz).date_naive() - from).num_days());
    let mut rows: Vec<TechRow> = board
        .technicians
        .iter()
        .map(|(id, name)| TechRow {
            id: *id,
            name: name.clone(),
            cells: (0..DAYS)
                .map(|d| {
                    let date = from + Duration::days(d);
                    let day = date.to_string();
                    Cell {
                        id: format!("cell-{id}-{day}"),
                        day,
                        today: date == today,
                        items: Vec::new(),
                        towns: Vec::new(),
                    }
                })
                .collect(),
            total: 0,
        })
        .collect();
    let mut per_day = [0usize; DAYS as usize];
    for t in &board.scheduled {
        let Some(d) = day_of(t).filter(|d| (0..DAYS).contains(d)) else { continue };
        per_day[d as usize] += 1;
        for (_, tech) in board.assignments.iter().filter(|(tid, _)| *tid == t.id) {
            if let Some(r) = rows.iter_mut().find(|r| r.id == *tech) {
                let cell = &mut r.cells[d as usize];
                cell.items.push(item(t, tz));
                if !cell.towns.contains(&t.town) {
                    cell.towns.push(t.town.clone());
                }
                r.total += 1;
            }
        }
    }
    let busiest = rows.iter().flat_map(|r| r.cells.iter().map(|c| c.items.len())).max().unwrap_or(0);
    let over = rows
        .iter()
        .flat_map(|r| r.cells.iter().filter(|c| c.over_limit()).map(|c| (r.name.clone(), c.day.clone(), c.items.len())))
        .collect();
    let days = (0..DAYS)
        .map(|d| {
            let date = from + Duration::days(d);
            let wd = date.weekday().number_from_monday();
            Day {
                date: date.to_string(),
                label: date.format("%m-%d").to_string(),
                weekday: u.tr.t(&format!("weekday.{wd}")),
                today: date == today,
                weekend: wd >= 6,
                total: per_day[d as usize],
            }
        })
        .collect();
    let now = Utc::now();
    let queue =
        |list: Vec<TicketRow>| -> Vec<Row> { list.into_iter().map(|t| Row { sla: sla_of(&c, &t, now), t }).collect() };
    let to_dispatch = queue(board.to_dispatch);
    let upcoming = queue(board.upcoming);
    Ok(render(&DispatchPage {
        days,
        rows,
        to_dispatch,
        upcoming,
        from: from.to_string(),
        period: format!("{} – {}", from.format("%Y-%m-%d"), last.format("%m-%d")),
        prev: (from - Duration::days(DAYS)).to_string(),
        next: (from + Duration::days(DAYS)).to_string(),
        scheduled: board.scheduled.len(),
        busiest,
        over,
        c,
    }))
}
