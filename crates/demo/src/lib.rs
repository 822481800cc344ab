//! The demo county for `aftercare demo` and the tests: its schools and equipment, one user per
//! role, work orders in every state, the desk's history and the warehouse — loaded through the
//! service's public API, as the demo's users themselves would. Not part of the product.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod data;
mod desk;
mod inspections;
mod parts;
mod trips;
mod week;

use aftercare_domain::CustomerId;
use aftercare_domain::users::UserInput;
pub use aftercare_service::{Result, Services};

/// A demo account: username, password, roles.
pub struct DemoUser {
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub roles: &'static [&'static str],
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser { username: "admin", password: "admin-2026", display_name: "系统管理员", roles: &["admin"] },
    DemoUser { username: "manager", password: "manager-2026", display_name: "陈经理", roles: &["manager"] },
    DemoUser { username: "agent", password: "agent-2026", display_name: "李客服", roles: &["agent"] },
    DemoUser { username: "engineer", password: "engineer-2026", display_name: "王工程师", roles: &["engineer"] },
    DemoUser { username: "tech", password: "tech-2026", display_name: "张师傅", roles: &["technician"] },
    DemoUser { username: "tech2", password: "tech2-2026", display_name: "赵师傅", roles: &["technician"] },
    DemoUser { username: "store", password: "store-2026", display_name: "刘库管", roles: &["storekeeper"] },
    DemoUser {
        username: "school",
        password: "school-2026",
        display_name: "城关镇中心小学 信息中心",
        roles: &["customer"],
    },
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub customers: usize,
    pub equipment: usize,
    pub users: usize,
    pub tickets: usize,
    pub contacts: usize,
    /// Stock movements of the demo warehouse.
    pub movements: usize,
    /// Inspections planned (one of them done today).
    pub inspections: usize,
    pub trips: usize,
    /// Nothing was loaded: the database already had schools.
    pub skipped: bool,
}

/// Loads the demo county into an empty database; does nothing if schools exist.
pub async fn load_demo(svc: &Services, seed: u64) -> Result<DemoSummary> {
    if svc.customer_count().await? > 0 {
        return Ok(DemoSummary { skipped: true, ..Default::default() });
    }
    let schools = crate::data::demo_county(seed, chrono::Utc::now().date_naive());
    let mut customers = Vec::new();
    for s in &schools {
        customers.push(s.customer.validate()?);
    }
    let ids = svc.load_customers("demo", &customers).await?;
    let mut equipment = Vec::new();
    for (s, id) in schools.iter().zip(&ids) {
        for e in &s.equipment {
            let mut e = e.clone();
            e.customer_id = Some(CustomerId(*id));
            equipment.push(e.validate()?);
        }
    }
    svc.load_equipment("demo", &equipment).await?;
    // The school account belongs to 城关镇中心小学 (or the first school).
    let school_id = customers
        .iter()
        .zip(&ids)
        .find(|(c, _)| c.name.contains("城关镇中心小学"))
        .or_else(|| customers.iter().zip(&ids).next())
        .map(|(_, id)| CustomerId(*id));
    let mut users = 0;
    for u in DEMO_USERS {
        if svc.actor_by_username(u.username).await?.is_some() {
            continue;
        }
        let customer_id = if u.roles.contains(&"customer") { school_id } else { None };
        let input = UserInput {
            username: Some(u.username.into()),
            password: Some(u.password.into()),
            display_name: Some(u.display_name.into()),
            roles: Some(u.roles.iter().map(|r| r.to_string()).collect()),
            customer_id,
            ..Default::default()
        };
        svc.create_user(None, &input).await?;
        users += 1;
    }
    let tickets = demo_tickets(svc, &ids).await?;
    let contacts = desk::demo_desk(svc, &ids).await?;
    let movements = parts::demo_parts(svc).await?;
    let inspections = match school_id {
        Some(school) => inspections::demo_inspections(svc, school).await?,
        None => 0,
    };
    // The trips go to the school account's school and to the first other one.
    let other = ids.iter().map(|i| CustomerId(*i)).find(|c| Some(*c) != school_id);
    let trips = match (school_id, other) {
        (Some(school), Some(other)) => trips::demo_trips(svc, school, other).await?,
        _ => 0,
    };
    if let Some(school) = school_id {
        week::demo_week(svc, school).await?;
    }
    Ok(DemoSummary {
        customers: customers.len(),
        equipment: equipment.len(),
        users,
        tickets,
        contacts,
        movements,
        inspections,
        trips,
        skipped: false,
    })
}

/// Faults the department sees every week (DOMAIN.md §3): system, title, what the school says,
/// fault type, subcategory, diagnosis, plan.
const DEMO_FAULTS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "surveillance",
        "校门口摄像机无图像",
        "门卫室监视器上校门口那一路黑屏",
        "hardware",
        "CCTV_CAM_DEAD",
        "摄像机电源适配器损坏",
        "更换 12V 适配器，检查防雷",
    ),
    (
        "surveillance",
        "监控录像只能保存三天",
        "查录像时发现只有最近三天",
        "hardware",
        "CCTV_NVR_DISK",
        "NVR 一块硬盘坏道",
        "更换 4TB 监控硬盘，检查录像计划",
    ),
    ("classroom", "302 教室一体机黑屏", "开机有声音没有图像", "hardware", "BBT_PANEL", "背光板故障", "更换背光板"),
    ("classroom", "投影画面发暗发黄", "上课看不清", "hardware", "BBT_LAMP", "灯泡寿命到期", "更换投影灯泡，清洁滤网"),
    ("classroom", "电子白板触摸不准", "点哪里都偏一点", "software", "BBT_TOUCH_CAL", "触摸未校准", "远程指导老师校准"),
    (
        "network",
        "教学楼三楼全部断网",
        "整层电脑上不了网，交换机灯狂闪",
        "cabling",
        "NET_LOOP",
        "有人把面板两个网口互插形成环路",
        "拔除环路网线，交换机开启环路检测",
    ),
    (
        "network",
        "无线 AP 反复重启",
        "会议室 WiFi 一会儿有一会儿没有",
        "hardware",
        "NET_AP_DEAD",
        "PoE 供电不足",
        "更换 PoE 交换机端口，必要时更换 AP",
    ),
    ("server_room", "机房 UPS 报警", "UPS 一直嘀嘀响", "hardware", "ROOM_UPS_BATT", "电池老化鼓包", "更换 UPS 电池组"),
    (
        "broadcast",
        "早上不打铃",
        "今天第一节课没有打铃",
        "software",
        "BC_SCHEDULE",
        "作息表未切换冬季时间",
        "远程切换冬季作息表",
    ),
    (
        "cloud",
        "云教室十台终端连不上桌面",
        "学生机显示找不到服务器",
        "cabling",
        "CLOUD_NET",
        "交换机端口松动",
        "重新压接网线并固定",
    ),
];

/// A 1×1 white PNG standing in for a demo signature.
pub(crate) const DEMO_SIGNATURE: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==";

/// A demo user as the acting user.
pub(crate) async fn demo_actor(svc: &Services, name: &str) -> Result<aftercare_service::Actor> {
    svc.actor_by_username(name).await?.ok_or(aftercare_service::ServiceError::NotFound)
}

/// What technicians tell schools after a repair (对客户说明/预防建议).
const DEMO_ADVICE: [&str; 4] = [
    "雷雨季节前请检查机房接地，打雷时拔掉外网光猫电源",
    "投影机请勿直接断电关机，待风扇停转后再关总电源",
    "机房空调请保持 24 小时开启，温度设在 25℃ 以下",
    "一体机请定期清理散热口灰尘，放学后统一关机",
];

/// Work orders in every state, walked through the real flow by the demo users.
async fn demo_tickets(svc: &Services, customers: &[i64]) -> Result<usize> {
    use aftercare_domain::tickets::{DiagnoseInput, SignatureInput, TicketInput, VisitInput};
    use aftercare_service::tickets::ActionBody;
    let (agent, engineer, tech, tech2) = (
        demo_actor(svc, "agent").await?,
        demo_actor(svc, "engineer").await?,
        demo_actor(svc, "tech").await?,
        demo_actor(svc, "tech2").await?,
    );
    let now = chrono::Utc::now();
    let mut made = 0;
    for (i, f) in DEMO_FAULTS.iter().cycle().take(30).enumerate() {
        let customer = customers[(i * 7) % customers.len()];
        let eq = svc
            .list_equipment(
                &agent,
                aftercare_service::equipment::EquipmentQuery {
                    customer_id: Some(customer),
                    system: Some(f.0.into()),
                    ..Default::default()
                },
                aftercare_service::Page::new(Some(1), Some(1)),
            )
            .await?
            .items;
        let input = TicketInput {
            customer_id: Some(CustomerId(customer)),
            equipment_ids: eq.iter().map(|e| aftercare_domain::EquipmentId(e.id)).collect(),
            system: Some(f.0.into()),
            title: Some(f.1.into()),
            description: Some(f.2.into()),
            reporter_name: Some("电教管理员".into()),
            ..Default::default()
        };
        let t = svc.create_ticket(&agent, &input, now).await?;
        made += 1;
        let id = t.ticket.id;
        // How far this one has come: every stage of the flow chart is represented.
        let stage = i % 6;
        if stage == 0 {
            continue;
        }
        let act = |who, action: &'static str, body: ActionBody| async move {
            svc.ticket_action(who, aftercare_domain::TicketId(id), action, &body, now).await
        };
        act(&engineer, "accept", ActionBody::default()).await?;
        if stage == 1 {
            continue;
        }
        let diag = DiagnoseInput {
            fault_type: Some(f.3.into()),
            fault_subcategory: Some(f.4.into()),
            diagnosis: Some(f.5.into()),
            plan: Some(f.6.into()),
            ..Default::default()
        };
        act(&engineer, "diagnose", ActionBody { diagnosis: diag, ..Default::default() }).await?;
        if stage == 2 {
            continue;
        }
        let who = if i % 2 == 0 { &tech } else { &tech2 };
        // Visits in working hours: the ones under way today, the rest over the next days.
        let tz = chrono_tz::Asia::Shanghai;
        let ahead = if stage >= 4 { 0 } else { 1 + (i as i64 % 4) };
        let day = now.with_timezone(&tz).date_naive() + chrono::Duration::days(ahead);
        let local = day.and_hms_opt(8 + (i as u32 % 9), if i % 2 == 0 { 0 } else { 30 }, 0).unwrap_or_default();
        let at = chrono::TimeZone::from_local_datetime(&tz, &local)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(now);
        act(
            &engineer,
            "schedule",
            ActionBody { technician_ids: vec![who.id.0], scheduled_at: Some(at), ..Default::default() },
        )
        .await?;
        if stage == 3 {
            // The desk rang the school and agreed the hour (§2.2(5)) on every other one.
            if i % 2 == 1 {
                let agreed = aftercare_domain::tickets::AgreedVisitInput {
                    agreed_at: Some(at + chrono::Duration::minutes(30)),
                    note: Some("电教管理员确认，门卫已登记".into()),
                };
                svc.agree_visit_time(&agent, aftercare_domain::TicketId(id), &agreed, now).await?;
            }
            continue;
        }
        act(who, "start", ActionBody::default()).await?;
        let visit = VisitInput {
            arrived_at: Some(now - chrono::Duration::minutes(90)),
            finished_at: Some(now - chrono::Duration::minutes(20)),
            work_done: Some(f.6.into()),
            result: Some("fixed".into()),
            advice: Some(DEMO_ADVICE[i % DEMO_ADVICE.len()].into()),
            signature: Some(SignatureInput {
                signer_name: Some("李老师".into()),
                image_png_base64: Some(DEMO_SIGNATURE.into()),
            }),
            ..Default::default()
        };
        let v = svc.add_visit(who, aftercare_domain::TicketId(id), &visit, None, now).await?;
        if stage == 4 {
            continue;
        }
        // The engineer checks the finished visits (§2.4(4)): most pass, one goes back.
        let review = if i % 12 == 11 {
            aftercare_domain::tickets::VisitReviewInput {
                verdict: Some("returned".into()),
                note: Some("请补填旧件序列号并上传更换后的照片".into()),
            }
        } else {
            aftercare_domain::tickets::VisitReviewInput { verdict: Some("accepted".into()), note: None }
        };
        svc.review_visit(&engineer, aftercare_domain::VisitId(v.id), &review, now).await?;
        // Worn equipment seen on the visit: the technician suggests replacing it (§二 2.6).
        if i % 12 == 5
            && let Some(e) = eq.first()
        {
            let s = aftercare_domain::equipment::SuggestionInput {
                kind: Some("replace".into()),
                reason: Some("设备已使用 6 年以上，本月第二次同类故障，建议列入更换计划".into()),
                ticket: Some(t.ticket.number.clone()),
            };
            svc.suggest(who, aftercare_domain::EquipmentId(e.id), &s, now).await?;
        }
        act(who, "resolve", ActionBody { resolution: Some(f.6.into()), ..Default::default() }).await?;
        if i % 12 == 5 {
            act(&agent, "callback", ActionBody { satisfaction: Some(5), resolved: Some(true), ..Default::default() })
                .await?;
        }
    }
    Ok(made)
}
