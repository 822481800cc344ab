//! Spreading a term's inspections over the working days of a range and the technicians
//! (`POST /api/v1/inspections/plan`): the days share the rounds evenly, a town's schools
//! go on the same day (and to the same technician) as far as the day holds them, and no
//! technician gets more rounds a day than the limit, counting what he already has. Pure.

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::HashMap;

/// A school to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: i64,
    pub town: String,
}

/// Where a school's round goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub customer_id: i64,
    pub day: NaiveDate,
    pub technician_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the range has no working day")]
    NoDays,
    #[error("no technician to plan for")]
    NoTechnicians,
    /// More schools than the technicians' free rounds in the range.
    #[error("{schools} schools but room for {room} rounds")]
    TooMany { schools: usize, room: usize },
}

/// Monday to Friday from `from` to `until`, inclusive.
pub fn working_days(from: NaiveDate, until: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= until)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// Places every school (grouped by town, in the order given within a town) on a day and a
/// technician. `booked` is each technician's rounds already planned per day.
pub fn spread(
    schools: &[School],
    days: &[NaiveDate],
    technicians: &[i64],
    daily_limit: usize,
    booked: &HashMap<(i64, NaiveDate), usize>,
) -> Result<Vec<Slot>, PlanError> {
    if days.is_empty() {
        return Err(PlanError::NoDays);
    }
    if technicians.is_empty() {
        return Err(PlanError::NoTechnicians);
    }
    // room[d][t]: rounds technician t may still take on day d.
    let mut room: Vec<Vec<usize>> = days
        .iter()
        .map(|d| {
            technicians
                .iter()
                .map(|t| daily_limit.saturating_sub(booked.get(&(*t, *d)).copied().unwrap_or(0)))
                .collect()
        })
        .collect();
    let total_room: usize = room.iter().flatten().sum();
    if schools.len() > total_room {
        return Err(PlanError::TooMany { schools: schools.len(), room: total_room });
    }
    let mut order: Vec<&School> = schools.iter().collect();
    order.sort_by(|a, b| a.town.cmp(&b.town)); // stable: the given order within a town
    let mut given = vec![0usize; technicians.len()];
    let mut out = Vec::with_capacity(schools.len());
    let mut next = 0;
    for d in 0..days.len() {
        if next == order.len() {
            break;
        }
        let left_days = days.len() - d;
        let quota = (order.len() - next).div_ceil(left_days);
        let mut today: Vec<(usize, &str)> = Vec::new(); // (technician index, town)
        let mut placed = 0;
        while next < order.len() {
            let s = order[next];
            // Past the day's share, only to finish the town already begun today.
            let same_town = today.last().is_some_and(|(_, t)| *t == s.town);
            if placed >= quota && !same_town {
                break;
            }
            let Some(t) = pick(&room[d], &given, &today, &s.town) else { break };
            room[d][t] -= 1;
            given[t] += 1;
            today.push((t, &s.town));
            out.push(Slot { customer_id: s.id, day: days[d], technician_id: technicians[t] });
            placed += 1;
            next += 1;
        }
    }
    // Days with less room than their share can leave some over: the first room left.
    for s in &order[next..] {
        let found = (0..days.len()).find_map(|d| pick(&room[d], &given, &[], &s.town).map(|t| (d, t)));
        let Some((d, t)) = found else {
            return Err(PlanError::TooMany { schools: schools.len(), room: total_room });
        };
        room[d][t] -= 1;
        given[t] += 1;
        out.push(Slot { customer_id: s.id, day: days[d], technician_id: technicians[t] });
    }
    Ok(out)
}

/// The technician for a school of `town` today: one already in that town with room, else
/// the one with the most room, then the fewest rounds so far, then the first.
fn pick(room: &[usize], given: &[usize], today: &[(usize, &str)], town: &str) -> Option<usize> {
    if let Some((t, _)) = today.iter().rev().find(|(t, tw)| *tw == town && room[*t] > 0) {
        return Some(*t);
    }
    (0..room.len())
        .filter(|t| room[*t] > 0)
        .max_by_key(|t| (room[*t], std::cmp::Reverse(given[*t]), std::cmp::Reverse(*t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn schools(towns: &[(&str, usize)]) -> Vec<School> {
        let mut id = 0;
        let mut out = Vec::new();
        for (town, n) in towns {
            for _ in 0..*n {
                id += 1;
                out.push(School { id, town: (*town).into() });
            }
        }
        out
    }

    #[test]
    fn weekends_are_not_working_days() {
        // 2026-12-07 is a Monday.
        let days = working_days(d("2026-12-05"), d("2026-12-13"));
        assert_eq!(days, (7..=11).map(|n| d(&format!("2026-12-{n:02}"))).collect::<Vec<_>>());
        assert!(working_days(d("2026-12-12"), d("2026-12-13")).is_empty());
    }

    #[test]
    fn a_town_goes_on_one_day_with_one_technician_and_the_days_share_the_rest() {
        let s = schools(&[("城关镇", 3), ("蓉城镇", 3), ("新河镇", 3), ("木镇镇", 3)]);
        let days = working_days(d("2026-12-07"), d("2026-12-11"));
        let slots = spread(&s, &days, &[10, 20], 3, &HashMap::new()).unwrap_or_default();
        assert_eq!(slots.len(), 12);
        for town in ["城关镇", "蓉城镇", "新河镇", "木镇镇"] {
            let of: Vec<&Slot> =
                slots.iter().filter(|x| s.iter().any(|y| y.id == x.customer_id && y.town == town)).collect();
            assert!(of.iter().all(|x| x.day == of[0].day), "{town}: one day");
            assert!(of.iter().all(|x| x.technician_id == of[0].technician_id), "{town}: one technician");
        }
        let used: std::collections::BTreeSet<NaiveDate> = slots.iter().map(|x| x.day).collect();
        assert!(used.len() >= 4, "12 rounds over 5 days use at least 4 of them: {used:?}");
    }

    #[test]
    fn no_technician_goes_over_the_daily_limit_counting_what_he_has() {
        let s = schools(&[("城关镇", 10)]);
        let days = [d("2026-12-07"), d("2026-12-08")];
        let booked = HashMap::from([((10, d("2026-12-07")), 2)]);
        let slots = spread(&s, &days, &[10, 20], 3, &booked).unwrap_or_default();
        assert_eq!(slots.len(), 10);
        let mut per: HashMap<(i64, NaiveDate), usize> = booked.clone();
        for x in &slots {
            *per.entry((x.technician_id, x.day)).or_default() += 1;
        }
        assert!(per.values().all(|n| *n <= 3), "{per:?}");
        let err = spread(&schools(&[("城关镇", 11)]), &days, &[10, 20], 3, &booked);
        assert_eq!(err, Err(PlanError::TooMany { schools: 11, room: 10 }));
    }

    #[test]
    fn nothing_to_plan_on_is_an_error() {
        let s = schools(&[("城关镇", 1)]);
        assert_eq!(spread(&s, &[], &[1], 3, &HashMap::new()), Err(PlanError::NoDays));
        assert_eq!(spread(&s, &[d("2026-12-07")], &[], 3, &HashMap::new()), Err(PlanError::NoTechnicians));
    }
}
