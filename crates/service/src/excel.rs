//! Excel and CSV: the import template, all-or-nothing imports of schools and equipment
//! with a report of every bad row, and exports of any filtered list. Columns are found by
//! their header in Chinese or English, so an export can be imported again.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::customers::{ContactInput, CustomerInput};
use aftercare_domain::equipment::{EquipmentInput, EquipmentStatus};
use aftercare_domain::{CustomerId, FieldErrors, System};
use aftercare_store::customers::CustomerQuery;
use aftercare_store::equipment::{EquipmentQuery, EquipmentRow};
use aftercare_store::{Page, Paged};
use calamine::{Data, Reader};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

pub const SCHOOL_SHEET: (&str, &str) = ("学校", "Schools");
pub const EQUIPMENT_SHEET: (&str, &str) = ("设备", "Equipment");
/// The most rows one import takes (a county has hundreds of schools, thousands of devices).
pub const MAX_IMPORT_ROWS: usize = 50_000;

/// One column: the field it fills, its Chinese and English header.
struct Col(&'static str, &'static str, &'static str);

const SCHOOL_COLS: &[Col] = &[
    Col("code", "学校编码", "Code"),
    Col("name", "学校名称", "Name"),
    Col("county", "县", "County"),
    Col("town", "乡镇", "Town"),
    Col("address", "地址", "Address"),
    Col("travel_minutes", "路程(分钟)", "Travel (min)"),
    Col("contacts[0].name", "联系人1", "Contact 1"),
    Col("contacts[0].title", "职务1", "Title 1"),
    Col("contacts[0].phone", "电话1", "Phone 1"),
    Col("contacts[0].email", "邮箱1", "Email 1"),
    Col("contacts[0].im", "QQ/微信1", "QQ/WeChat 1"),
    Col("contacts[1].name", "联系人2", "Contact 2"),
    Col("contacts[1].title", "职务2", "Title 2"),
    Col("contacts[1].phone", "电话2", "Phone 2"),
    Col("contacts[1].email", "邮箱2", "Email 2"),
    Col("contacts[1].im", "QQ/微信2", "QQ/WeChat 2"),
];

const EQUIPMENT_COLS: &[Col] = &[
    Col("customer_code", "学校编码", "School code"),
    Col("system", "系统", "System"),
    Col("kind", "类别", "Kind"),
    Col("brand", "品牌", "Brand"),
    Col("model", "型号", "Model"),
    Col("serial_no", "序列号", "Serial no."),
    Col("location", "位置", "Location"),
    Col("installed_on", "安装日期", "Installed on"),
    Col("warranty_until", "保修截止", "Warranty until"),
    Col("critical", "关键设备", "Critical"),
    Col("status", "状态", "Status"),
];

/// One bad row of an import: `(sheet, row as Excel numbers it, field, rule)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub sheet: String,
    pub row: usize,
    pub field: String,
    pub code: &'static str,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub customers: usize,
    pub equipment: usize,
}

/// A cell as trimmed text (dates as `YYYY-MM-DD`); empty is `None`.
pub(crate) fn cell_text(d: &Data) -> Option<String> {
    let s = match d {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.as_datetime().map(|d| d.date().format("%Y-%m-%d").to_string())?,
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::DurationIso(s) => s.clone(),
    };
    (!s.is_empty()).then_some(s)
}

/// 是/否, yes/no, true/false, 1/0; empty is `None`; anything else is an error.
pub(crate) fn parse_bool(s: Option<&str>) -> std::result::Result<Option<bool>, ()> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some("是" | "Y" | "y" | "yes" | "Yes" | "YES" | "true" | "TRUE" | "1" | "关键") => Ok(Some(true)),
        Some("否" | "N" | "n" | "no" | "No" | "NO" | "false" | "FALSE" | "0") => Ok(Some(false)),
        Some(_) => Err(()),
    }
}

/// The rows of a sheet as maps from field to text; the row number is Excel's.
fn sheet_rows(range: &calamine::Range<Data>, cols: &[Col]) -> Vec<(usize, HashMap<&'static str, String>)> {
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Vec::new();
    };
    let map: Vec<Option<&'static str>> = header
        .iter()
        .map(|h| {
            let h = cell_text(h).unwrap_or_default();
            let h = h.trim_end_matches('*');
            cols.iter().find(|c| c.1 == h || c.2.eq_ignore_ascii_case(h)).map(|c| c.0)
        })
        .collect();
    let start = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    rows.enumerate()
        .map(|(i, r)| {
            let mut m = HashMap::new();
            for (j, cell) in r.iter().enumerate() {
                if let (Some(Some(f)), Some(v)) = (map.get(j), cell_text(cell)) {
                    m.insert(*f, v);
                }
            }
            (start + i + 2, m)
        })
        .filter(|(_, m)| !m.is_empty())
        .collect()
}

fn find_sheet(names: &[String], want: (&str, &str)) -> Option<String> {
    names.iter().find(|n| n.trim() == want.0 || n.trim().eq_ignore_ascii_case(want.1)).cloned()
}

fn customer_input(m: &HashMap<&'static str, String>) -> (CustomerInput, Vec<(&'static str, &'static str)>) {
    let g = |k: &str| m.get(k).cloned();
    let mut bad = Vec::new();
    let travel = match g("travel_minutes") {
        None => None,
        Some(s) => match s.parse::<i32>() {
            Ok(v) => Some(v),
            Err(_) => {
                bad.push(("travel_minutes", "invalid"));
                None
            }
        },
    };
    let contact = |i: usize| ContactInput {
        name: g(&format!("contacts[{i}].name")),
        title: g(&format!("contacts[{i}].title")),
        phone: g(&format!("contacts[{i}].phone")),
        email: g(&format!("contacts[{i}].email")),
        im: g(&format!("contacts[{i}].im")),
    };
    (
        CustomerInput {
            name: g("name"),
            code: g("code"),
            county: g("county"),
            town: g("town"),
            address: g("address"),
            travel_minutes: travel,
            contacts: Some(vec![contact(0), contact(1)]),
        },
        bad,
    )
}

fn open(bytes: &[u8]) -> Result<calamine::Xlsx<std::io::Cursor<&[u8]>>> {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|_| ServiceError::Invalid(FieldErrors::single("file", "invalid_xlsx")))
}

impl Services {
    /// Imports the 学校 and 设备 sheets of a workbook (either may be missing). Every row
    /// is checked first; one bad row rejects the whole file with a report of all of them.
    pub async fn import_xlsx(&self, by: &Actor, bytes: &[u8]) -> Result<ImportSummary> {
        require(by.can_edit_installed_base())?;
        let mut wb = open(bytes)?;
        let names = wb.sheet_names();
        let school_sheet = find_sheet(&names, SCHOOL_SHEET);
        let equipment_sheet = find_sheet(&names, EQUIPMENT_SHEET);
        if school_sheet.is_none() && equipment_sheet.is_none() {
            return Err(FieldErrors::single("file", "no_sheets").into());
        }
        let mut errors = Vec::new();
        let mut err = |sheet: &str, row: usize, field: &str, code: &'static str| {
            errors.push(RowError { sheet: sheet.into(), row, field: field.into(), code });
        };

        let mut customers = Vec::new();
        let mut codes_in_file: HashMap<String, usize> = HashMap::new();
        if let Some(name) = &school_sheet {
            let range = wb.worksheet_range(name).map_err(|_| FieldErrors::single("file", "invalid_xlsx"))?;
            let rows = sheet_rows(&range, SCHOOL_COLS);
            if rows.len() > MAX_IMPORT_ROWS {
                return Err(FieldErrors::single("file", "too_many_rows").into());
            }
            for (row, m) in rows {
                let (input, bad) = customer_input(&m);
                for (f, c) in bad {
                    err(name, row, f, c);
                }
                match input.validate() {
                    Ok(c) => {
                        if codes_in_file.insert(c.code.clone(), row).is_some() {
                            err(name, row, "code", "duplicate");
                        }
                        customers.push((row, c));
                    }
                    Err(e) => e.0.into_iter().for_each(|x| err(name, row, &x.field, x.code)),
                }
            }
            let codes: Vec<String> = customers.iter().map(|(_, c)| c.code.clone()).collect();
            for (code, _) in aftercare_store::customers::ids_by_code(&self.db, &codes).await? {
                if let Some(row) = codes_in_file.get(&code) {
                    err(name, *row, "code", "duplicate");
                }
            }
        }

        let mut equipment = Vec::new();
        if let Some(name) = &equipment_sheet {
            let range = wb.worksheet_range(name).map_err(|_| FieldErrors::single("file", "invalid_xlsx"))?;
            let rows = sheet_rows(&range, EQUIPMENT_COLS);
            if rows.len() > MAX_IMPORT_ROWS {
                return Err(FieldErrors::single("file", "too_many_rows").into());
            }
            let wanted: Vec<String> = rows
                .iter()
                .filter_map(|(_, m)| m.get("customer_code").map(|s| s.trim().to_uppercase()))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let known: HashMap<String, i64> =
                aftercare_store::customers::ids_by_code(&self.db, &wanted).await?.into_iter().collect();
            let mut serials: HashMap<String, usize> = HashMap::new();
            for (row, m) in rows {
                let code = m.get("customer_code").map(|s| s.trim().to_uppercase());
                // A school of this same file gets its id on insert; use a placeholder until then.
                let customer_id = match &code {
                    None => {
                        err(name, row, "customer_code", "required");
                        None
                    }
                    Some(c) => match known.get(c) {
                        Some(id) => Some(CustomerId(*id)),
                        None if codes_in_file.contains_key(c) => Some(CustomerId(0)),
                        None => {
                            err(name, row, "customer_code", "not_found");
                            None
                        }
                    },
                };
                let critical = match parse_bool(m.get("critical").map(String::as_str)) {
                    Ok(v) => v,
                    Err(()) => {
                        err(name, row, "critical", "invalid");
                        None
                    }
                };
                let input = EquipmentInput {
                    customer_id: customer_id.or(Some(CustomerId(0))),
                    system: m.get("system").cloned(),
                    kind: m.get("kind").cloned(),
                    brand: m.get("brand").cloned(),
                    model: m.get("model").cloned(),
                    serial_no: m.get("serial_no").cloned(),
                    location: m.get("location").cloned(),
                    installed_on: m.get("installed_on").cloned(),
                    warranty_until: m.get("warranty_until").cloned(),
                    critical,
                    status: m.get("status").cloned(),
                };
                match input.validate() {
                    Ok(e) => {
                        if serials.insert(e.serial_no.clone(), row).is_some() {
                            err(name, row, "serial_no", "duplicate");
                        }
                        equipment.push((code.unwrap_or_default(), e));
                    }
                    Err(e) => e.0.into_iter().for_each(|x| err(name, row, &x.field, x.code)),
                }
            }
            let all: Vec<String> = serials.keys().cloned().collect();
            for s in aftercare_store::equipment::existing_serials(&self.db, &all).await? {
                if let Some(row) = serials.get(&s) {
                    err(name, *row, "serial_no", "duplicate");
                }
            }
        }
        if !errors.is_empty() {
            // Schools first, then equipment, each by row (a stable sort keeps a row's fields in order).
            errors.sort_by_key(|e| (e.sheet != SCHOOL_SHEET.0, e.row));
            return Err(ServiceError::Import(errors));
        }

        let w = self.writer(by);
        let new_customers: Vec<_> = customers.into_iter().map(|(_, c)| c).collect();
        let n_customers = new_customers.len();
        let n_equipment = equipment.len();
        aftercare_store::import::apply(&self.db, &w, &new_customers, &equipment).await?;
        Ok(ImportSummary { customers: n_customers, equipment: n_equipment })
    }

    /// The template: both sheets with their headers and one example row each.
    pub fn import_template(&self, english: bool) -> Result<Vec<u8>> {
        let pick = |c: &Col| if english { c.2 } else { c.1 };
        let mut wb = rust_xlsxwriter::Workbook::new();
        let school: Vec<String> = [
            "QY-CG-01",
            "城关镇中心小学",
            "青阳县",
            "城关镇",
            "人民路 88 号",
            "15",
            "王建国",
            "信息中心主任",
            "13905661234",
            "wangjg@example.edu.cn",
            "123456789",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let equip: Vec<String> = [
            "QY-CG-01",
            "校园监控",
            "网络摄像机",
            "海康威视",
            "DS-2CD3T46WDV3-I3",
            "DS2CD3T46-E00012345",
            "校门口立杆",
            "2023-08-20",
            "2026-08-19",
            "否",
            "在用",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        add_sheet(
            &mut wb,
            if english { SCHOOL_SHEET.1 } else { SCHOOL_SHEET.0 },
            SCHOOL_COLS.iter().map(pick).collect(),
            vec![school],
        )?;
        add_sheet(
            &mut wb,
            if english { EQUIPMENT_SHEET.1 } else { EQUIPMENT_SHEET.0 },
            EQUIPMENT_COLS.iter().map(pick).collect(),
            vec![equip],
        )?;
        wb.save_to_buffer().map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The filtered equipment list as rows of text, header first, in the user's language.
    pub async fn equipment_table(&self, by: &Actor, q: EquipmentQuery, english: bool) -> Result<Vec<Vec<String>>> {
        let rows = self.list_equipment(by, q, Page::all()).await?;
        let codes = self.customer_codes(by).await?;
        let mut out = vec![EQUIPMENT_COLS.iter().map(|c| if english { c.2 } else { c.1 }.to_string()).collect()];
        out.extend(rows.items.iter().map(|e| equipment_cells(e, &codes, english)));
        Ok(out)
    }

    pub async fn customer_table(&self, by: &Actor, q: CustomerQuery, english: bool) -> Result<Vec<Vec<String>>> {
        let Paged { items, .. } = self.list_customers_with_contacts(by, q, Page::all()).await?;
        let mut out = vec![SCHOOL_COLS.iter().map(|c| if english { c.2 } else { c.1 }.to_string()).collect::<Vec<_>>()];
        for d in items {
            let c = &d.customer;
            let mut row = vec![
                c.code.clone(),
                c.name.clone(),
                c.county.clone(),
                c.town.clone(),
                c.address.clone().unwrap_or_default(),
                c.travel_minutes.map(|m| m.to_string()).unwrap_or_default(),
            ];
            for i in 0..2 {
                let p = d.contacts.get(i);
                let f = |v: Option<&String>| v.cloned().unwrap_or_default();
                row.extend([
                    p.map(|p| p.name.clone()).unwrap_or_default(),
                    f(p.and_then(|p| p.title.as_ref())),
                    f(p.and_then(|p| p.phone.as_ref())),
                    f(p.and_then(|p| p.email.as_ref())),
                    f(p.and_then(|p| p.im.as_ref())),
                ]);
            }
            out.push(row);
        }
        Ok(out)
    }

    async fn customer_codes(&self, by: &Actor) -> Result<HashMap<i64, String>> {
        let all = self.list_customers(by, CustomerQuery::default(), Page::all()).await?;
        Ok(all.items.into_iter().map(|c| (c.id, c.code)).collect())
    }
}

fn equipment_cells(e: &EquipmentRow, codes: &HashMap<i64, String>, english: bool) -> Vec<String> {
    let system = System::parse(&e.system).map(|s| if english { s.as_str() } else { s.zh() }).unwrap_or_default();
    let status =
        EquipmentStatus::parse(&e.status).map(|s| if english { s.as_str() } else { s.zh() }).unwrap_or_default();
    let yes_no = match (e.critical, english) {
        (true, false) => "是",
        (false, false) => "否",
        (true, true) => "yes",
        (false, true) => "no",
    };
    let d = |v: Option<chrono::NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    vec![
        codes.get(&e.customer_id).cloned().unwrap_or_default(),
        system.to_string(),
        e.kind.clone(),
        e.brand.clone().unwrap_or_default(),
        e.model.clone().unwrap_or_default(),
        e.serial_no.clone(),
        e.location.clone().unwrap_or_default(),
        d(e.installed_on),
        d(e.warranty_until),
        yes_no.to_string(),
        status.to_string(),
    ]
}

fn add_sheet(wb: &mut rust_xlsxwriter::Workbook, name: &str, header: Vec<&str>, rows: Vec<Vec<String>>) -> Result<()> {
    let internal = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(e.to_string());
    let bold = rust_xlsxwriter::Format::new().set_bold().set_background_color("#E8EEF7");
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(internal)?;
    for (j, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold).map_err(internal)?;
        ws.set_column_width(j as u16, 16).map_err(internal)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            // Text cells keep serials, phones and codes exactly as typed.
            ws.write_string((i + 1) as u32, j as u16, v).map_err(internal)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(internal)?;
    Ok(())
}

/// A table as an `.xlsx` workbook of one sheet.
pub fn table_to_xlsx(sheet: &str, table: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let (header, rows) =
        table.split_first().map(|(h, r)| (h.iter().map(String::as_str).collect(), r.to_vec())).unwrap_or_default();
    add_sheet(&mut wb, sheet, header, rows)?;
    wb.save_to_buffer().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// A table as CSV (RFC 4180), with a byte-order mark so Excel opens the Chinese right.
pub fn table_to_csv(table: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in table {
        let cells: Vec<String> =
            row.iter()
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = vec![vec!["a".into(), "b,c".into()], vec!["say \"hi\"".into(), "两\n行".into()]];
        assert_eq!(table_to_csv(&t), "\u{feff}a,\"b,c\"\r\n\"say \"\"hi\"\"\",\"两\n行\"\r\n");
    }

    #[test]
    fn booleans_in_chinese_and_english() {
        assert_eq!(parse_bool(Some("是")), Ok(Some(true)));
        assert_eq!(parse_bool(Some("no")), Ok(Some(false)));
        assert_eq!(parse_bool(None), Ok(None));
        assert_eq!(parse_bool(Some("也许")), Err(()));
    }

    #[test]
    fn numbers_from_excel_read_as_text_without_decimals() {
        assert_eq!(cell_text(&Data::Float(13905661234.0)).as_deref(), Some("13905661234"));
        assert_eq!(cell_text(&Data::String("  x ".into())).as_deref(), Some("x"));
        assert_eq!(cell_text(&Data::Empty), None);
    }
}
