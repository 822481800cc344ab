//! The demo's service desk: three days of calls, mail and walk-ins as a county department
//! sees them — consultations, repairs that became tickets, urges, missed calls (one already
//! overdue), a complaint waiting for the manager, one reviewed, and a suggestion.

use crate::{Result, Services, demo_actor};
use aftercare_domain::contacts::{Category, Channel, Direction, Handling, NewContact, Urgency};
use aftercare_domain::{CustomerId, System};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

/// (hours ago, channel, category, system, what was said, reply, handling)
type DemoCall =
    (i64, &'static str, &'static str, Option<&'static str>, &'static str, Option<&'static str>, Option<&'static str>);

const CALLS: &[DemoCall] = &[
    (
        70,
        "phone",
        "consultation",
        Some("classroom"),
        "一体机怎么切换到电脑信号",
        Some("按面板信号源键选 PC，已指导老师操作"),
        Some("answered"),
    ),
    (
        66,
        "phone",
        "consultation",
        Some("cloud"),
        "云桌面学生账号密码忘了怎么重置",
        Some("远程重置为初始密码并告知"),
        Some("remote"),
    ),
    (
        50,
        "email",
        "consultation",
        Some("broadcast"),
        "寒假期间广播系统要不要关机",
        Some("建议关闭功放电源，主机保持待机"),
        Some("answered"),
    ),
    (
        47,
        "im",
        "consultation",
        Some("network"),
        "新教师电脑怎么连校园网",
        Some("已发送无线认证操作说明"),
        Some("answered"),
    ),
    (
        30,
        "walk_in",
        "consultation",
        Some("surveillance"),
        "来公司咨询监控录像能保存多少天",
        Some("当前配置约 30 天，可扩容硬盘"),
        Some("answered"),
    ),
    (26, "phone", "other", None, "询问发票邮寄进度", Some("已转财务，明天回复"), Some("to_manager")),
    (
        22,
        "fax",
        "consultation",
        Some("server_room"),
        "机房空调滤网多久清洗一次",
        Some("每季度一次，巡检时会清洗"),
        Some("answered"),
    ),
    (5, "phone", "consultation", Some("classroom"), "电子白板笔没反应", Some("更换电池后恢复"), Some("answered")),
];

/// Loads the desk's history; returns how many contact records it wrote.
pub(crate) async fn demo_desk(svc: &Services, customers: &[i64]) -> Result<usize> {
    let agent = demo_actor(svc, "agent").await?;
    let manager = demo_actor(svc, "manager").await?;
    let now = Utc::now();
    let mut made = 0;
    let school = |i: usize| customers[(i * 5 + 3) % customers.len()];
    let person = |id: i64| {
        let agent = &agent;
        async move { svc.get_customer(agent, CustomerId(id)).await.ok().and_then(|c| c.contacts.into_iter().next()) }
    };
    let contact = |at: DateTime<Utc>, channel: Channel, category: Category, customer: i64| NewContact {
        channel,
        direction: Direction::Inbound,
        category,
        customer_id: Some(CustomerId(customer)),
        caller_name: None,
        caller_title: None,
        caller_phone: None,
        caller_email: None,
        system: None,
        urgency: Urgency::Normal,
        content: String::new(),
        reply: None,
        handling: None,
        mood: None,
        received_at: at,
        answered: true,
        promised_at: None,
        wait_seconds: Some(8),
        talk_seconds: Some(150),
        ticket_id: None,
        about_user_id: None,
    };
    let mut items = Vec::new();
    for (i, (ago, ch, cat, sys, what, reply, handling)) in CALLS.iter().enumerate() {
        let id = school(i);
        let p = person(id).await;
        let mut k = contact(now - Duration::hours(*ago), parse_channel(ch), parse_category(cat), id);
        k.caller_name = p.as_ref().map(|p| p.name.clone());
        k.caller_title = p.as_ref().and_then(|p| p.title.clone());
        k.caller_phone = p.as_ref().and_then(|p| p.phone.clone());
        k.caller_email = if *ch == "email" { p.as_ref().and_then(|p| p.email.clone()) } else { None };
        k.system = sys.and_then(System::parse);
        k.content = (*what).into();
        k.reply = reply.map(str::to_owned);
        k.handling = handling.and_then(Handling::parse);
        items.push(k);
    }
    // Urges on open demo tickets.
    let open = svc
        .list_tickets(
            &agent,
            aftercare_service::tickets::TicketQuery {
                statuses: vec!["scheduled".into(), "in_progress".into()],
                ..Default::default()
            },
            aftercare_service::Page::new(Some(1), Some(2)),
        )
        .await?
        .items;
    for (i, t) in open.iter().enumerate() {
        let mut k = contact(now - Duration::hours(3 + i as i64), Channel::Phone, Category::Repair, t.customer_id);
        k.caller_name = t.reporter_name.clone();
        k.caller_phone = t.reporter_phone.clone();
        k.content = format!("催单：{}，老师说下午上课要用", t.title);
        k.reply = Some("已联系维修人员，今天之内上门".into());
        k.handling = Some(Handling::Urge);
        k.ticket_id = Some(t.id);
        items.push(k);
    }
    // A call last night, after hours, with the waiting time the caller was told.
    let night = now - Duration::hours(14);
    let mut k = contact(night, Channel::Phone, Category::Repair, school(20));
    k.content = "机房 UPS 一直报警，能不能今晚来看看".into();
    k.reply = Some("已记录，明早 9 点前安排工程师联系您".into());
    k.urgency = Urgency::Urgent;
    k.promised_at = Some(night + Duration::hours(12));
    k.handling = Some(Handling::ToEngineer);
    items.push(k);
    // Missed calls: one on the last working day (long overdue, whatever the hour of the
    // demo), two in the last hour.
    let hours = svc.working_hours().await;
    let mut day = now.with_timezone(&svc.tz).date_naive() - Duration::days(1);
    while !hours.days.contains(&day.weekday()) {
        day -= Duration::days(1);
    }
    let last_working = svc
        .tz
        .from_local_datetime(&day.and_time(hours.start + Duration::hours(2)))
        .earliest()
        .map_or(now - Duration::days(1), |t| t.with_timezone(&Utc));
    for (i, at) in [last_working, now - Duration::minutes(50), now - Duration::minutes(5)].into_iter().enumerate() {
        let id = school(30 + i);
        let p = person(id).await;
        let mut k = contact(at, Channel::Phone, Category::Other, id);
        k.answered = false;
        k.talk_seconds = None;
        k.wait_seconds = Some(35);
        k.caller_phone = p.and_then(|p| p.phone);
        items.push(k);
    }
    // A complaint for the manager, one already reviewed, and a suggestion.
    let mut complaint = contact(now - Duration::hours(4), Channel::Phone, Category::Complaint, school(40));
    complaint.content = "维修人员约好上午九点，十一点才到，耽误了公开课".into();
    complaint.mood = Some("不满".into());
    // The complaint names the technician it is about.
    complaint.about_user_id = Some(demo_actor(svc, "tech").await?.id.0);
    complaint.reply = Some("非常抱歉给您带来不便，我们会尽快核实处理并给您答复".into());
    items.push(complaint);
    let mut reviewed = contact(now - Duration::hours(52), Channel::Phone, Category::Complaint, school(41));
    reviewed.content = "同一台投影机一个月修了三次".into();
    items.push(reviewed);
    let mut suggestion = contact(now - Duration::hours(20), Channel::Email, Category::Suggestion, school(42));
    suggestion.content = "建议寒假前统一给班班通除尘，开学后故障会少很多".into();
    items.push(suggestion);

    let mut reviewed_id = None;
    for k in items {
        let is_reviewed = k.content.starts_with("同一台投影机");
        let ids = svc.load_contact(&agent, k, now).await?;
        if is_reviewed {
            reviewed_id = ids.first().copied();
        }
        made += ids.len();
    }
    if let Some(id) = reviewed_id {
        let input = aftercare_service::contacts::ReviewInput {
            verdict: Some("valid".into()),
            action: Some("安排工程师复查该投影机，必要时更换光机".into()),
            note: Some("属实，已列入周技术会议".into()),
            version: None,
        };
        svc.review_complaint(&manager, aftercare_domain::ContactId(id), &input, now - Duration::hours(48)).await?;
    }
    svc.check_missed_calls(now).await?;
    Ok(made)
}

fn parse_channel(s: &str) -> Channel {
    Channel::parse(s).unwrap_or(Channel::Other)
}

fn parse_category(s: &str) -> Category {
    Category::parse(s).unwrap_or(Category::Other)
}
