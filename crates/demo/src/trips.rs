//! The demo county's outings (外出): the department's vehicle, a trip back today with its
//! costs, verified by the desk's call and waiting for the manager's approval, a trip out
//! now with the vehicle (the day board shows where), a day away, and tomorrow's proposal
//! accepted.

use crate::demo_actor;
use aftercare_domain::trips::{
    AbsenceInput, CostInput, LeaveInput, StopAction, StopInput, TripAction, TripInput, VehicleInput, VerifyInput,
};
use aftercare_domain::{CustomerId, TripId, TripStopId};
use aftercare_service::trips::TripActionInput;
use aftercare_service::{Result, Services};
use chrono::{Duration, Utc};

/// Plans and walks the demo trips; returns how many there are.
pub(crate) async fn demo_trips(svc: &Services, school: CustomerId, other: CustomerId) -> Result<usize> {
    let (manager, engineer, agent, tech, tech2) = (
        demo_actor(svc, "manager").await?,
        demo_actor(svc, "engineer").await?,
        demo_actor(svc, "agent").await?,
        demo_actor(svc, "tech").await?,
        demo_actor(svc, "tech2").await?,
    );
    let now = Utc::now();
    let today = svc.today();
    let van = VehicleInput {
        plate: Some("皖L·6F218".into()),
        name: Some("售后工程车（五菱宏光）".into()),
        seats: Some(7),
        status: None,
        note: Some("备胎、梯子常备车上".into()),
    };
    let van = svc.save_vehicle(&manager, None, &van, now).await?;
    let mut made = 0;
    // 赵师傅 went by his own car this morning and is back.
    let morning = TripInput {
        trip_date: Some(today.to_string()),
        staff_ids: Some(vec![tech2.id.0]),
        transport: Some("private_car".into()),
        purpose: Some("repair".into()),
        planned_start: Some("08:00".into()),
        planned_end: Some("12:00".into()),
        stops: Some(vec![StopInput { customer_id: Some(other.0), ..Default::default() }]),
        ..Default::default()
    };
    let t = svc.plan_trip(&engineer, &morning, now).await?;
    made += 1;
    let id = TripId(t.trip.id);
    let all = TripActionInput { reason: Some("工具包已在车上".into()), ..Default::default() };
    svc.trip_action(&tech2, id, TripAction::Depart, &all, now).await?;
    let stop = TripStopId(t.stops[0].id);
    svc.stop_action(&tech2, id, stop, StopAction::Arrive, &LeaveInput::default(), now).await?;
    let leave = LeaveInput { confirmed_by: Some("电教管理员 周老师".into()), note: None };
    svc.stop_action(&tech2, id, stop, StopAction::Leave, &leave, now).await?;
    let back = TripActionInput {
        costs: Some(vec![
            CostInput { kind: Some("fuel".into()), amount: Some(40.0) },
            CostInput { kind: Some("meal".into()), amount: Some(25.0) },
        ]),
        summary: Some("更换交换机电源模块，网络恢复".into()),
        ..Default::default()
    };
    svc.trip_action(&tech2, id, TripAction::Return, &back, now).await?;
    let call = VerifyInput {
        confirmed: Some(true), contact: Some("周老师".into()), note: Some("上午九点到校".into())
    };
    svc.verify_stop(&agent, id, stop, &call, now).await?;
    // 张师傅 is out with the vehicle now, at the school.
    let out = TripInput {
        trip_date: Some(today.to_string()),
        staff_ids: Some(vec![tech.id.0]),
        vehicle_id: Some(van.id),
        planned_start: Some("13:30".into()),
        planned_end: Some("17:30".into()),
        stops: Some(vec![StopInput { customer_id: Some(school.0), ..Default::default() }]),
        ..Default::default()
    };
    let t = svc.plan_trip(&engineer, &out, now).await?;
    made += 1;
    let id = TripId(t.trip.id);
    for item in &t.items {
        svc.tick_item(&tech, id, aftercare_domain::TripItemId(item.id), true, now).await?;
    }
    let go = TripActionInput { odometer: Some(48_210), ..Default::default() };
    svc.trip_action(&tech, id, TripAction::Depart, &go, now).await?;
    svc.stop_action(&tech, id, TripStopId(t.stops[0].id), StopAction::Arrive, &LeaveInput::default(), now).await?;
    // The engineer is at the vendor's training tomorrow.
    let away = AbsenceInput {
        user_id: Some(engineer.id.0),
        day: Some((today + Duration::days(1)).to_string()),
        reason: Some("厂家培训（海康威视）".into()),
    };
    svc.set_absence(&manager, &away, now).await?;
    // Tomorrow's proposal, its first trip accepted.
    let tomorrow = today + Duration::days(1);
    if !svc.trip_proposal(&engineer, tomorrow).await?.trips.is_empty()
        && svc.accept_proposal(&engineer, tomorrow, 0, now).await.is_ok()
    {
        made += 1;
    }
    Ok(made)
}
