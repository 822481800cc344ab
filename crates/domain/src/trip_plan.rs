//! The proposal for a day's trips (§3.2.4: plan the time for the far towns): the day's
//! scheduled repairs and planned rounds, gathered into one trip per team — the people whose
//! jobs they are — each visiting its towns once, the farthest first in the morning and then
//! always the nearest next, within the working day. Pure: the service reads the jobs and
//! the travel times, the engineer accepts, edits or ignores what comes out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Minutes on site a job takes unless known better.
pub const REPAIR_MINUTES: i64 = 60;
pub const ROUND_MINUTES: i64 = 90;
/// Minutes between two schools of one town.
pub const WITHIN_TOWN_MINUTES: i64 = 10;
/// Minutes from the depot to a town nobody measured.
pub const UNKNOWN_TOWN_MINUTES: i64 = 30;

/// What a job is, for the trip it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum JobRef {
    Ticket(i64),
    Inspection(i64),
}

/// A job of the day: where, who, how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub job: JobRef,
    pub customer_id: i64,
    pub town: String,
    /// The school's minutes from the depot, if known (else the town's).
    pub depot_minutes: Option<i64>,
    pub on_site: i64,
    /// Who is assigned; empty: whoever the proposal puts there.
    pub staff: Vec<i64>,
}

/// Road minutes: from the depot to each town, and between towns (either order).
#[derive(Debug, Clone, Default)]
pub struct Travel {
    pub depot: HashMap<String, i64>,
    pub between: HashMap<(String, String), i64>,
}

impl Travel {
    /// The depot to a town.
    pub fn to_town(&self, town: &str) -> i64 {
        self.depot.get(town).copied().unwrap_or(UNKNOWN_TOWN_MINUTES)
    }

    /// Between two towns: as set, else [`estimate`] from their minutes from the depot.
    pub fn between(&self, a: &str, b: &str) -> i64 {
        if a == b {
            return WITHIN_TOWN_MINUTES;
        }
        let key = if a < b { (a.to_owned(), b.to_owned()) } else { (b.to_owned(), a.to_owned()) };
        self.between.get(&key).copied().unwrap_or_else(|| estimate(self.to_town(a), self.to_town(b)))
    }
}

/// Two towns `a` and `b` minutes from the depot are at least `|a − b|` apart and at most
/// `a + b`; with no map, the expected distance of two points on circles of those radii at a
/// random angle, about 0.64 (a + b) when a = b, is the honest guess. The manager's matrix
/// replaces it.
pub fn estimate(a: i64, b: i64) -> i64 {
    ((a + b) as f64 * 0.64).round().max((a - b).abs() as f64) as i64
}

/// A stop of a proposed trip: a school, its jobs, and the estimated times (minutes after
/// midnight, local).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProposedStop {
    pub customer_id: i64,
    pub town: String,
    pub jobs: Vec<JobRef>,
    pub arrive: i64,
    pub leave: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProposedTrip {
    pub staff: Vec<i64>,
    /// A company vehicle, while there are vehicles left (the longest roads get them).
    pub vehicle_id: Option<i64>,
    pub stops: Vec<ProposedStop>,
    /// Leaving the depot and back, minutes after midnight.
    pub start: i64,
    pub end: i64,
    pub road_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Proposal {
    pub trips: Vec<ProposedTrip>,
    /// Jobs that do not fit the working day, for another day.
    pub unplaced: Vec<JobRef>,
    /// Road minutes of the proposal, of the placed jobs.
    pub road_minutes: i64,
    /// The same placed jobs each on its own trip from the depot, in ticket order: what the
    /// proposal must beat.
    pub one_trip_per_job_minutes: i64,
    /// Each team's placed jobs in the order they were filed, as one route.
    pub ticket_order_minutes: i64,
}

/// Proposes the day's trips for `jobs` (in the order they were filed). `day` is the working
/// day in minutes after midnight; `vehicles` the company vehicles free that day.
pub fn propose(jobs: &[Job], travel: &Travel, day: (i64, i64), vehicles: &[i64]) -> Proposal {
    let teams = teams(jobs);
    let mut trips = Vec::new();
    let mut unplaced = Vec::new();
    let mut placed: Vec<usize> = Vec::new();
    let mut ticket_order = 0;
    for (team, crewless) in teams {
        let mut team = team;
        loop {
            let (trip, left_out, in_order) = route(jobs, &team, travel, day);
            let Some(t) = trip else {
                unplaced.extend(left_out.iter().map(|&i| jobs[i].job));
                break;
            };
            ticket_order += in_order;
            placed.extend(team.iter().copied().filter(|i| !left_out.contains(i)));
            trips.push(t);
            // Work nobody is assigned to yet may take a second crew; a team's own work
            // that does not fit waits for another day.
            if !crewless || left_out.is_empty() {
                unplaced.extend(left_out.iter().map(|&i| jobs[i].job));
                break;
            }
            team = left_out;
        }
    }
    // The vehicles go to the longest roads.
    let mut by_road: Vec<usize> = (0..trips.len()).collect();
    by_road.sort_by_key(|&i| std::cmp::Reverse(trips[i].road_minutes));
    for (i, v) in by_road.into_iter().zip(vehicles) {
        trips[i].vehicle_id = Some(*v);
    }
    placed.sort_unstable();
    let one_trip_per_job_minutes = placed.iter().map(|&i| 2 * depot_leg(&jobs[i], travel)).sum();
    let road_minutes = trips.iter().map(|t| t.road_minutes).sum();
    trips.sort_by_key(|t| (t.start, t.staff.clone()));
    Proposal { trips, unplaced, road_minutes, one_trip_per_job_minutes, ticket_order_minutes: ticket_order }
}

fn depot_leg(j: &Job, travel: &Travel) -> i64 {
    j.depot_minutes.unwrap_or_else(|| travel.to_town(&j.town))
}

/// The road between two jobs: within a school nothing, within a town a few minutes, else
/// the towns' minutes.
fn leg(a: &Job, b: &Job, travel: &Travel) -> i64 {
    if a.customer_id == b.customer_id { 0 } else { travel.between(&a.town, &b.town) }
}

/// Teams: jobs sharing a person go together (a person is in one place at a time); a job
/// without people joins a team already going to its town, else the pool of work nobody is
/// assigned to (flagged `true`), which the route groups by town and may split into crews.
/// Each team's jobs by index, in filing order.
fn teams(jobs: &[Job]) -> Vec<(Vec<usize>, bool)> {
    let mut parent: Vec<usize> = (0..jobs.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        let mut i = i;
        while p[i] != r {
            let next = p[i];
            p[i] = r;
            i = next;
        }
        r
    }
    let mut by_person: HashMap<i64, usize> = HashMap::new();
    for (i, j) in jobs.iter().enumerate() {
        for s in &j.staff {
            match by_person.get(s) {
                Some(&k) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, k));
                    parent[a] = b;
                }
                None => {
                    by_person.insert(*s, i);
                }
            }
        }
    }
    let mut town_team: HashMap<&str, usize> = HashMap::new();
    for (i, j) in jobs.iter().enumerate().filter(|(_, j)| !j.staff.is_empty()) {
        town_team.entry(j.town.as_str()).or_insert(i);
    }
    let mut pool = Vec::new();
    for (i, j) in jobs.iter().enumerate().filter(|(_, j)| j.staff.is_empty()) {
        match town_team.get(j.town.as_str()) {
            Some(&k) => {
                let (a, b) = (find(&mut parent, i), find(&mut parent, k));
                parent[a] = b;
            }
            None => pool.push(i),
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..jobs.len()).filter(|i| !pool.contains(i)) {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<(Vec<usize>, bool)> = groups.into_values().map(|g| (g, false)).collect();
    out.sort_by_key(|(g, _)| g[0]);
    if !pool.is_empty() {
        out.push((pool, true));
    }
    out
}

/// One team's trip: the towns in order (the farthest first, then always the nearest), the
/// schools of a town one after another (the farther first), every job fitted into the day
/// or left out. Returns the trip (none when nothing fits), the jobs left out, and the road
/// minutes of the same placed jobs in filing order.
fn route(jobs: &[Job], team: &[usize], travel: &Travel, day: (i64, i64)) -> (Option<ProposedTrip>, Vec<usize>, i64) {
    let mut towns: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in team {
        towns.entry(jobs[i].town.as_str()).or_default().push(i);
    }
    let mut order: Vec<&str> = Vec::new();
    let mut left: BTreeSet<&str> = towns.keys().copied().collect();
    let mut here: Option<&str> = None;
    while !left.is_empty() {
        let next = match here {
            None => *left.iter().max_by_key(|t| (travel.to_town(t), std::cmp::Reverse(**t))).unwrap_or(&""),
            Some(h) => *left.iter().min_by_key(|t| (travel.between(h, t), **t)).unwrap_or(&""),
        };
        left.remove(next);
        order.push(next);
        here = Some(next);
    }
    let mut sequence: Vec<usize> = Vec::new();
    for t in &order {
        let mut in_town = towns[t].clone();
        in_town.sort_by_key(|&i| (std::cmp::Reverse(depot_leg(&jobs[i], travel)), jobs[i].customer_id, i));
        sequence.extend(in_town);
    }
    // Walk the day: a job that would bring them back after the day's end waits for
    // another day.
    let (start, end) = day;
    let mut clock = start;
    let mut road = 0;
    let mut at: Option<usize> = None;
    let mut stops: Vec<ProposedStop> = Vec::new();
    let mut left_out = Vec::new();
    for i in sequence {
        let j = &jobs[i];
        let to_it = match at {
            None => depot_leg(j, travel),
            Some(k) => leg(&jobs[k], j, travel),
        };
        let done = clock + to_it + j.on_site;
        if done + depot_leg(j, travel) > end {
            left_out.push(i);
            continue;
        }
        road += to_it;
        match stops.last_mut() {
            Some(s) if s.customer_id == j.customer_id => {
                s.jobs.push(j.job);
                s.leave = done;
            }
            _ => stops.push(ProposedStop {
                customer_id: j.customer_id,
                town: j.town.clone(),
                jobs: vec![j.job],
                arrive: clock + to_it,
                leave: done,
            }),
        }
        clock = done;
        at = Some(i);
    }
    let Some(last) = at else { return (None, left_out, 0) };
    let back = depot_leg(&jobs[last], travel);
    road += back;
    let mut staff: Vec<i64> = team.iter().flat_map(|&i| jobs[i].staff.iter().copied()).collect();
    staff.sort_unstable();
    staff.dedup();
    // The same placed jobs in filing order, one route.
    let placed: Vec<usize> = team.iter().copied().filter(|i| !left_out.contains(i)).collect();
    let mut in_order = 0;
    let mut prev: Option<usize> = None;
    for &i in &placed {
        in_order += match prev {
            None => depot_leg(&jobs[i], travel),
            Some(k) => leg(&jobs[k], &jobs[i], travel),
        };
        prev = Some(i);
    }
    if let Some(k) = prev {
        in_order += depot_leg(&jobs[k], travel);
    }
    let trip = ProposedTrip { staff, vehicle_id: None, stops, start, end: clock + back, road_minutes: road };
    (Some(trip), left_out, in_order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small county: the depot in 城关, four towns around it.
    fn county() -> Travel {
        let mut t = Travel::default();
        for (town, m) in [("城关镇", 10), ("东坝镇", 40), ("西河乡", 45), ("北山乡", 80), ("南岭镇", 35)]
        {
            t.depot.insert(town.into(), m);
        }
        // 北山 and 西河 are on one road.
        t.between.insert(("北山乡".into(), "西河乡".into()), 35);
        t
    }

    fn job(n: i64, school: i64, town: &str, staff: &[i64]) -> Job {
        Job {
            job: JobRef::Ticket(n),
            customer_id: school,
            town: town.into(),
            depot_minutes: None,
            on_site: REPAIR_MINUTES,
            staff: staff.to_vec(),
        }
    }

    const DAY: (i64, i64) = (8 * 60 + 30, 17 * 60 + 30);

    #[test]
    fn a_person_is_on_one_trip_and_the_far_town_comes_first() {
        let jobs = vec![
            job(1, 10, "西河乡", &[7]),
            job(2, 20, "北山乡", &[7]),
            job(3, 11, "西河乡", &[7]),
            job(4, 30, "东坝镇", &[8]),
        ];
        let p = propose(&jobs, &county(), DAY, &[1]);
        assert_eq!(p.trips.len(), 2, "{p:#?}");
        let seven = p.trips.iter().find(|t| t.staff == vec![7]).unwrap();
        let towns: Vec<&str> = seven.stops.iter().map(|s| s.town.as_str()).collect();
        assert_eq!(towns, ["北山乡", "西河乡", "西河乡"], "the farthest town first, then the nearest");
        assert_eq!(seven.vehicle_id, Some(1), "the one vehicle goes to the longest road");
        assert_eq!(p.trips.iter().find(|t| t.staff == vec![8]).unwrap().vehicle_id, None);
        // 80 out, 35 to 西河, 10 between its schools, 45 back.
        assert_eq!(seven.road_minutes, 80 + 35 + 10 + 45);
        assert!(p.unplaced.is_empty());
    }

    #[test]
    fn grouping_by_town_beats_ticket_order_on_a_small_county() {
        // Filed as the phone rang: the towns alternate.
        let towns = ["北山乡", "东坝镇", "北山乡", "南岭镇", "东坝镇", "北山乡"];
        let jobs: Vec<Job> = towns.iter().enumerate().map(|(i, t)| job(i as i64, 100 + i as i64, t, &[])).collect();
        let p = propose(&jobs, &county(), (8 * 60, 20 * 60), &[1]);
        assert!(p.unplaced.is_empty(), "{p:#?}");
        assert!(p.road_minutes < p.ticket_order_minutes, "{} vs {}", p.road_minutes, p.ticket_order_minutes);
        assert!(p.road_minutes < p.one_trip_per_job_minutes);
        // Each town's schools are visited one after another.
        for t in &p.trips {
            let seen: Vec<&str> = t.stops.iter().map(|s| s.town.as_str()).collect();
            let mut runs = seen.clone();
            runs.dedup();
            let distinct: BTreeSet<&str> = seen.iter().copied().collect();
            assert_eq!(runs.len(), distinct.len(), "a town is visited once: {seen:?}");
        }
    }

    #[test]
    fn what_does_not_fit_the_day_waits_and_the_day_holds() {
        let jobs: Vec<Job> = (0..12).map(|i| job(i, 200 + i, "北山乡", &[5])).collect();
        let p = propose(&jobs, &county(), DAY, &[]);
        let t = &p.trips[0];
        assert!(t.end <= DAY.1, "back by the day's end: {}", t.end);
        assert!(!p.unplaced.is_empty());
        assert_eq!(t.stops.iter().map(|s| s.jobs.len()).sum::<usize>() + p.unplaced.len(), 12);
        assert_eq!(t.stops[0].arrive, DAY.0 + 80);
    }

    #[test]
    fn an_unmeasured_pair_is_estimated_within_the_triangle() {
        for (a, b) in [(10, 80), (40, 45), (0, 30), (60, 60)] {
            let e = estimate(a, b);
            assert!(e >= (a - b).abs() && e <= a + b, "{a} {b} {e}");
        }
        let t = county();
        assert_eq!(t.between("北山乡", "西河乡"), 35, "a measured pair wins");
        assert_eq!(t.between("西河乡", "北山乡"), 35, "either order");
    }
}
