//! The department's KPIs (DOMAIN.md §5) from a period's counts: the formulas, pure, with
//! no rate where there is nothing to divide by.

use crate::analysis::rate;
use serde::Serialize;

string_enum!(
    /// A KPI of DOMAIN.md §5 the data supports.
    Kpi {
        /// 响应及时率: responded without breaching the response time / responded.
        ResponseOnTime = "response_on_time",
        /// 到场及时率.
        ArrivalOnTime = "arrival_on_time",
        /// 按时解决率.
        ResolvedInSla = "resolved_in_sla",
        /// 平均修复时长 (report to resolution), hours.
        MeanHoursToFix = "mean_hours_to_fix",
        /// 一次修复率: the first visit fixed it / tickets visited.
        FirstTimeFix = "first_time_fix",
        /// 返修率.
        RepeatRepair = "repeat_repair",
        /// 误判率: misdiagnoses (not dismissed) / tickets.
        Misdiagnosis = "misdiagnosis",
        /// 回访率: called back / resolved.
        Callback = "callback",
        /// 回访满意度, the mean of 1..5.
        Satisfaction = "satisfaction",
        /// 满意率: 4 or 5 / called back.
        Satisfied = "satisfied",
        /// 投诉率: complaints / tickets.
        ComplaintRate = "complaint_rate",
        /// 20 秒接通率: inbound calls answered within [`ANSWER_SECONDS`] / inbound calls.
        CallsAnsweredFast = "calls_answered_fast",
        /// 漏接率: inbound calls not answered / inbound calls.
        MissedCall = "missed_call",
        /// 漏接回拨率: missed calls called back / missed calls.
        MissedCalledBack = "missed_called_back",
        /// 首次解决率 (电话): repair and consultation contacts settled on the call (answered
        /// or remote) with no further contact from the school within [`FCR_DAYS`] days /
        /// repair and consultation contacts.
        FirstContactResolution = "first_contact_resolution",
        /// 巡检完成率.
        InspectionCompletion = "inspection_completion",
        /// 隐患整改率: hazards of the month's rounds resolved / found.
        HazardsResolved = "hazards_resolved",
        /// 设备完好率: devices sound / devices checked on the month's rounds.
        DeviceAvailability = "device_availability",
        /// 备件满足率: requisition lines issued in full / lines issued.
        PartsFill = "parts_fill",
        /// 备件周转率: value issued / mean stock value (opening and closing), times.
        PartsTurnover = "parts_turnover",
        /// 呆滞备件占比: value of stock with no issue for 180 days / stock value.
        StaleStock = "stale_stock",
        /// 旧件返还率: broken parts brought back / parts fitted on tickets (units).
        DefectiveReturn = "defective_return",
        /// 人均工单量: tickets resolved / technicians who visited any.
        TicketsPerTechnician = "tickets_per_technician",
        /// 出勤核实率: stops verified by phone / stops of the trips back.
        OutingsVerified = "outings_verified",
    }
);

/// The seconds within which a call counts as answered promptly (the call-centre 80/20).
pub const ANSWER_SECONDS: i64 = 20;
/// The days without another contact from the school after which a call settled it.
pub const FCR_DAYS: i64 = 7;

impl Kpi {
    /// `%`, `h` or `/5`.
    pub fn unit(self) -> &'static str {
        match self {
            Kpi::MeanHoursToFix => "h",
            Kpi::Satisfaction => "/5",
            Kpi::PartsTurnover => "×",
            Kpi::TicketsPerTechnician => "",
            _ => "%",
        }
    }
    /// Whether a higher value is better (the arrow's colour).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Kpi::MeanHoursToFix
                | Kpi::RepeatRepair
                | Kpi::Misdiagnosis
                | Kpi::ComplaintRate
                | Kpi::MissedCall
                | Kpi::StaleStock
        )
    }
}

/// What a period counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KpiCounts {
    pub tickets: i64,
    pub responded: i64,
    pub responded_late: i64,
    pub arrived: i64,
    pub arrived_late: i64,
    pub resolved: i64,
    pub resolved_late: i64,
    pub hours_to_fix: f64,
    pub visited: i64,
    pub fixed_first: i64,
    pub repeat: i64,
    pub misdiagnoses: i64,
    pub called_back: i64,
    pub satisfaction_sum: i64,
    pub satisfied: i64,
    pub complaints: i64,
    pub calls_in: i64,
    /// Answered within [`ANSWER_SECONDS`].
    pub calls_fast: i64,
    pub calls_missed: i64,
    pub missed_called_back: i64,
    /// Repair and consultation contacts, and those settled on the first one.
    pub fcr_contacts: i64,
    pub fcr_settled: i64,
    pub rounds_planned: i64,
    pub rounds_done: i64,
    pub hazards_found: i64,
    pub hazards_resolved: i64,
    pub devices: i64,
    pub devices_ok: i64,
    pub lines_issued: i64,
    pub lines_full: i64,
    /// Value issued in the period, the mean stock value, the stock value now and its
    /// slow-moving part (fen).
    pub issued_fen: i64,
    pub average_stock_fen: i64,
    pub stock_fen: i64,
    pub stale_fen: i64,
    /// Units fitted on tickets, and of them brought back broken.
    pub parts_fitted: i64,
    pub parts_returned: i64,
    /// Tickets resolved that had a visit, and the technicians who made the visits.
    pub resolved_visited: i64,
    pub technicians: i64,
    pub stops: i64,
    pub stops_verified: i64,
}

fn mean(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| (sum * 10.0 / n as f64).round() / 10.0)
}

/// `part / whole` to two places (a turnover of 0.35 times is not a percentage).
fn times(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 100.0 / whole as f64).round() / 100.0)
}

/// Every KPI of the counts, in the order of DOMAIN.md §5.
pub fn kpis(c: &KpiCounts) -> Vec<(Kpi, Option<f64>)> {
    vec![
        (Kpi::ResponseOnTime, rate(c.responded - c.responded_late, c.responded)),
        (Kpi::ArrivalOnTime, rate(c.arrived - c.arrived_late, c.arrived)),
        (Kpi::ResolvedInSla, rate(c.resolved - c.resolved_late, c.resolved)),
        (Kpi::MeanHoursToFix, mean(c.hours_to_fix, c.resolved)),
        (Kpi::FirstTimeFix, rate(c.fixed_first, c.visited)),
        (Kpi::RepeatRepair, rate(c.repeat, c.tickets)),
        (Kpi::Misdiagnosis, rate(c.misdiagnoses, c.tickets)),
        (Kpi::Callback, rate(c.called_back, c.resolved)),
        (Kpi::Satisfaction, mean(c.satisfaction_sum as f64, c.called_back)),
        (Kpi::Satisfied, rate(c.satisfied, c.called_back)),
        (Kpi::ComplaintRate, rate(c.complaints, c.tickets)),
        (Kpi::CallsAnsweredFast, rate(c.calls_fast, c.calls_in)),
        (Kpi::MissedCall, rate(c.calls_missed, c.calls_in)),
        (Kpi::MissedCalledBack, rate(c.missed_called_back, c.calls_missed)),
        (Kpi::FirstContactResolution, rate(c.fcr_settled, c.fcr_contacts)),
        (Kpi::InspectionCompletion, rate(c.rounds_done, c.rounds_planned)),
        (Kpi::HazardsResolved, rate(c.hazards_resolved, c.hazards_found)),
        (Kpi::DeviceAvailability, rate(c.devices_ok, c.devices)),
        (Kpi::PartsFill, rate(c.lines_full, c.lines_issued)),
        (Kpi::PartsTurnover, times(c.issued_fen, c.average_stock_fen)),
        (Kpi::StaleStock, rate(c.stale_fen, c.stock_fen)),
        (Kpi::DefectiveReturn, rate(c.parts_returned.min(c.parts_fitted), c.parts_fitted)),
        (Kpi::TicketsPerTechnician, mean(c.resolved_visited as f64, c.technicians)),
        (Kpi::OutingsVerified, rate(c.stops_verified, c.stops)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &[(Kpi, Option<f64>)], k: Kpi) -> Option<f64> {
        v.iter().find(|(x, _)| *x == k).and_then(|(_, v)| *v)
    }

    #[test]
    fn an_empty_period_has_no_rates_at_all() {
        let v = kpis(&KpiCounts::default());
        assert_eq!(v.len(), Kpi::ALL.len(), "every KPI, once");
        assert!(v.iter().all(|(_, x)| x.is_none()), "nothing divided by zero: {v:?}");
    }

    #[test]
    fn each_formula_on_a_small_month() {
        let c = KpiCounts {
            tickets: 20,
            responded: 19,
            responded_late: 1,
            arrived: 10,
            arrived_late: 2,
            resolved: 16,
            resolved_late: 1,
            hours_to_fix: 100.0,
            visited: 10,
            fixed_first: 9,
            repeat: 1,
            misdiagnoses: 2,
            called_back: 12,
            satisfaction_sum: 55,
            satisfied: 11,
            complaints: 1,
            calls_in: 50,
            calls_fast: 41,
            calls_missed: 1,
            missed_called_back: 1,
            fcr_contacts: 30,
            fcr_settled: 12,
            rounds_planned: 8,
            rounds_done: 6,
            hazards_found: 3,
            hazards_resolved: 1,
            devices: 120,
            devices_ok: 117,
            lines_issued: 40,
            lines_full: 38,
            issued_fen: 70_000,
            average_stock_fen: 200_000,
            stock_fen: 210_000,
            stale_fen: 21_000,
            parts_fitted: 6,
            parts_returned: 9,
            resolved_visited: 10,
            technicians: 3,
            stops: 0,
            stops_verified: 0,
        };
        let v = kpis(&c);
        assert_eq!(get(&v, Kpi::ResponseOnTime), Some(94.7));
        assert_eq!(get(&v, Kpi::ArrivalOnTime), Some(80.0));
        assert_eq!(get(&v, Kpi::ResolvedInSla), Some(93.8));
        assert_eq!(get(&v, Kpi::MeanHoursToFix), Some(6.3));
        assert_eq!(get(&v, Kpi::FirstTimeFix), Some(90.0));
        assert_eq!(get(&v, Kpi::RepeatRepair), Some(5.0));
        assert_eq!(get(&v, Kpi::Misdiagnosis), Some(10.0));
        assert_eq!(get(&v, Kpi::Callback), Some(75.0));
        assert_eq!(get(&v, Kpi::Satisfaction), Some(4.6));
        assert_eq!(get(&v, Kpi::Satisfied), Some(91.7));
        assert_eq!(get(&v, Kpi::ComplaintRate), Some(5.0));
        assert_eq!(get(&v, Kpi::CallsAnsweredFast), Some(82.0));
        assert_eq!(get(&v, Kpi::MissedCall), Some(2.0));
        assert_eq!(get(&v, Kpi::MissedCalledBack), Some(100.0));
        assert_eq!(get(&v, Kpi::FirstContactResolution), Some(40.0));
        assert_eq!(get(&v, Kpi::InspectionCompletion), Some(75.0));
        assert_eq!(get(&v, Kpi::HazardsResolved), Some(33.3));
        assert_eq!(get(&v, Kpi::DeviceAvailability), Some(97.5));
        assert_eq!(get(&v, Kpi::PartsFill), Some(95.0));
        assert_eq!(get(&v, Kpi::PartsTurnover), Some(0.35), "times, not percent");
        assert_eq!(get(&v, Kpi::StaleStock), Some(10.0));
        assert_eq!(get(&v, Kpi::DefectiveReturn), Some(100.0), "more brought back than fitted is all of them");
        assert_eq!(get(&v, Kpi::TicketsPerTechnician), Some(3.3));
        assert!(!Kpi::StaleStock.higher_is_better() && Kpi::PartsTurnover.higher_is_better());
        assert_eq!((Kpi::PartsTurnover.unit(), Kpi::TicketsPerTechnician.unit()), ("×", ""));
        assert_eq!(get(&v, Kpi::OutingsVerified), None, "no trips, no rate");
        assert!(!Kpi::MissedCall.higher_is_better() && Kpi::FirstTimeFix.higher_is_better());
    }
}
