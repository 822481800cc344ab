//! The texts of the mails we send, in Chinese and English: one function per kind. Plain
//! text, so every mail client shows them the same; the ticket number leads the subject in
//! square brackets so that a reply ("Re: [GD…] …") threads back onto the ticket.

use aftercare_store::contacts::ContactRow;
use aftercare_store::tickets::TicketRow;

/// The two languages of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// A user's locale; anything but English is Chinese, the default.
    pub fn of(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.trim().to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

/// What every ticket mail to a school says about the ticket.
pub struct TicketFacts<'a> {
    pub ticket: &'a TicketRow,
    pub school: &'a str,
    pub company: &'a str,
}

fn priority(lang: Lang, p: &str) -> &str {
    match (lang, p) {
        (Lang::Zh, "urgent") => "紧急",
        (Lang::Zh, "high") => "高",
        (Lang::Zh, "normal") => "普通",
        (Lang::Zh, "low") => "低",
        (_, other) => other,
    }
}

fn status(lang: Lang, s: &str) -> String {
    let zh = match s {
        "new" => "待受理",
        "triage" => "待诊断",
        "to_dispatch" => "待派单",
        "scheduled" => "已派工",
        "in_progress" => "处理中",
        "on_hold" => "挂起",
        "resolved" => "待回访",
        "closed" => "已关闭",
        "cancelled" => "已取消",
        other => other,
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => s.replace('_', " "),
    }
}

fn clock(lang: Lang, c: &str) -> &str {
    match (lang, c) {
        (Lang::Zh, "respond") => "响应",
        (Lang::Zh, "arrive") => "到场",
        (Lang::Zh, "resolve") => "修复",
        (Lang::En, "respond") => "response",
        (Lang::En, "arrive") => "on site",
        (Lang::En, "resolve") => "fix",
        (_, other) => other,
    }
}

fn reply_hint(lang: Lang, number: &str) -> String {
    match lang {
        Lang::Zh => format!("如需补充情况，请直接回复本邮件，并保留主题中的工单号 [{number}]。"),
        Lang::En => {
            format!("To add anything, just reply to this mail and keep the ticket number [{number}] in the subject.")
        }
    }
}

fn signature(lang: Lang, company: &str) -> String {
    match lang {
        Lang::Zh => format!("{company}\n（本邮件由系统自动发送）"),
        Lang::En => format!("{company}\n(This mail was sent automatically.)"),
    }
}

/// The school's fault is registered.
pub fn ticket_opened(lang: Lang, f: &TicketFacts<'_>) -> Text {
    let t = f.ticket;
    match lang {
        Lang::Zh => Text {
            subject: format!("[{}] 报修已受理：{}", t.number, t.title),
            body: format!(
                "{}：\n\n您好！您报修的“{}”已登记，工单号 {}，优先级：{}。\n我们会尽快与您联系并安排处理。\n\n{}\n\n{}\n",
                f.school,
                t.title,
                t.number,
                priority(lang, t.priority.as_str()),
                reply_hint(lang, &t.number),
                signature(lang, f.company)
            ),
        },
        Lang::En => Text {
            subject: format!("[{}] Fault report received: {}", t.number, t.title),
            body: format!(
                "Dear {},\n\nYour report \"{}\" is registered as ticket {} (priority: {}).\nWe will contact you shortly to arrange the repair.\n\n{}\n\n{}\n",
                f.school,
                t.title,
                t.number,
                priority(lang, t.priority.as_str()),
                reply_hint(lang, &t.number),
                signature(lang, f.company)
            ),
        },
    }
}

/// A visit is scheduled at the time agreed with the school (`at`: local time, formatted).
pub fn ticket_scheduled(lang: Lang, f: &TicketFacts<'_>, at: &str, technicians: &[String]) -> Text {
    let t = f.ticket;
    match lang {
        Lang::Zh => {
            let who = if technicians.is_empty() {
                String::new()
            } else {
                format!("维护人员：{}。\n", technicians.join("、"))
            };
            Text {
                subject: format!("[{}] 已安排上门：{}", t.number, at),
                body: format!(
                    "{}：\n\n您好！工单 {}（{}）已安排上门处理，时间：{}。\n{}如时间不便，请回复本邮件或来电调整。\n\n{}\n\n{}\n",
                    f.school,
                    t.number,
                    t.title,
                    at,
                    who,
                    reply_hint(lang, &t.number),
                    signature(lang, f.company)
                ),
            }
        }
        Lang::En => {
            let who = if technicians.is_empty() {
                String::new()
            } else {
                format!("Technicians: {}.\n", technicians.join(", "))
            };
            Text {
                subject: format!("[{}] Visit scheduled: {}", t.number, at),
                body: format!(
                    "Dear {},\n\nA visit for ticket {} ({}) is scheduled for {}.\n{}If that time does not suit you, reply to this mail or call us.\n\n{}\n\n{}\n",
                    f.school,
                    t.number,
                    t.title,
                    at,
                    who,
                    reply_hint(lang, &t.number),
                    signature(lang, f.company)
                ),
            }
        }
    }
}

/// The fault is dealt with; the callback follows.
pub fn ticket_resolved(lang: Lang, f: &TicketFacts<'_>) -> Text {
    let t = f.ticket;
    let resolution = t.resolution.as_deref().unwrap_or_default();
    match lang {
        Lang::Zh => Text {
            subject: format!("[{}] 已处理完毕：{}", t.number, t.title),
            body: format!(
                "{}：\n\n您好！工单 {}（{}）已处理完毕。\n处理结果：{}\n\n我们的客服将回访确认问题是否彻底解决；如仍有问题，请直接回复本邮件。\n\n{}\n",
                f.school,
                t.number,
                t.title,
                resolution,
                signature(lang, f.company)
            ),
        },
        Lang::En => Text {
            subject: format!("[{}] Resolved: {}", t.number, t.title),
            body: format!(
                "Dear {},\n\nTicket {} ({}) has been resolved.\nResolution: {}\n\nOur service desk will call you to confirm it is really fixed; if it is not, just reply to this mail.\n\n{}\n",
                f.school,
                t.number,
                t.title,
                resolution,
                signature(lang, f.company)
            ),
        },
    }
}

/// The ticket is closed.
pub fn ticket_closed(lang: Lang, f: &TicketFacts<'_>) -> Text {
    let t = f.ticket;
    match lang {
        Lang::Zh => Text {
            subject: format!("[{}] 工单已关闭：{}", t.number, t.title),
            body: format!(
                "{}：\n\n您好！工单 {}（{}）已关闭。感谢您的配合与支持！\n如同一问题再次出现，请回复本邮件或来电，我们会重新处理。\n\n{}\n",
                f.school,
                t.number,
                t.title,
                signature(lang, f.company)
            ),
        },
        Lang::En => Text {
            subject: format!("[{}] Closed: {}", t.number, t.title),
            body: format!(
                "Dear {},\n\nTicket {} ({}) is closed. Thank you for your help.\nShould the same fault come back, reply to this mail or call us and we will take it up again.\n\n{}\n",
                f.school,
                t.number,
                t.title,
                signature(lang, f.company)
            ),
        },
    }
}

/// A manager is told that clocks of a ticket ran out (`dues`: clock and its local due time).
pub fn sla_breach(lang: Lang, manager: &str, t: &TicketRow, dues: &[(&str, String)], company: &str) -> Text {
    let names: Vec<&str> = dues.iter().map(|(c, _)| clock(lang, c)).collect();
    match lang {
        Lang::Zh => {
            let lines: String = dues.iter().map(|(c, at)| format!("  {}时限：{}\n", clock(lang, c), at)).collect();
            Text {
                subject: format!("[{}] 超时告警：{}超时", t.number, names.join("、")),
                body: format!(
                    "{}：\n\n工单 {} 已超出服务时限（{}）。\n学校：{}（{}）\n标题：{}\n优先级：{}\n当前状态：{}\n{}\n请尽快跟进。\n\n{}\n",
                    manager,
                    t.number,
                    names.join("、"),
                    t.customer_name,
                    t.town,
                    t.title,
                    priority(lang, t.priority.as_str()),
                    status(lang, t.status.as_str()),
                    lines,
                    signature(lang, company)
                ),
            }
        }
        Lang::En => {
            let lines: String = dues.iter().map(|(c, at)| format!("  {} due: {}\n", clock(lang, c), at)).collect();
            Text {
                subject: format!("[{}] SLA breached: {}", t.number, names.join(", ")),
                body: format!(
                    "{},\n\nTicket {} is past its service deadline ({}).\nSchool: {} ({})\nTitle: {}\nPriority: {}\nStatus: {}\n{}\nPlease follow it up.\n\n{}\n",
                    manager,
                    t.number,
                    names.join(", "),
                    t.customer_name,
                    t.town,
                    t.title,
                    t.priority,
                    status(lang, t.status.as_str()),
                    lines,
                    signature(lang, company)
                ),
            }
        }
    }
}

/// A manager is told of a complaint to review (`at`: local time, formatted).
pub fn complaint(lang: Lang, manager: &str, c: &ContactRow, at: &str, company: &str) -> Text {
    let school = c.customer_name.as_deref().unwrap_or(match lang {
        Lang::Zh => "未匹配学校",
        Lang::En => "unknown school",
    });
    let caller = [c.caller_name.as_deref(), c.caller_phone.as_deref(), c.caller_email.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match lang {
        Lang::Zh => Text {
            subject: format!("[投诉 {}] {}", c.record_no, school),
            body: format!(
                "{}：\n\n收到一条投诉，请审核（有效/无效）并处理。\n记录号：{}\n时间：{}\n学校：{}\n投诉人：{}\n内容：\n{}\n\n{}\n",
                manager,
                c.record_no,
                at,
                school,
                caller,
                c.content,
                signature(lang, company)
            ),
        },
        Lang::En => Text {
            subject: format!("[Complaint {}] {}", c.record_no, school),
            body: format!(
                "{},\n\nA complaint came in for your review (valid or invalid) and action.\nRecord: {}\nTime: {}\nSchool: {}\nFrom: {}\nWhat was said:\n{}\n\n{}\n",
                manager,
                c.record_no,
                at,
                school,
                caller,
                c.content,
                signature(lang, company)
            ),
        },
    }
}

/// The engineer's answer to a consultation that came by mail, to the person who asked
/// (in Chinese: the school's language).
pub fn consultation_answer(c: &ContactRow, answer: &str, company: &str) -> Text {
    let lang = Lang::Zh;
    let name = c.caller_name.as_deref().unwrap_or("老师");
    Text {
        subject: format!("回复：您的咨询 [{}]", c.record_no),
        body: format!(
            "{name}，您好！\n\n您咨询的问题，我们的技术工程师答复如下：\n\n{answer}\n\n您的问题：\n{}\n\n如仍有疑问，请直接回复本邮件或致电我们。\n\n{}\n",
            c.content,
            signature(lang, company)
        ),
    }
}
