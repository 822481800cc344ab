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
use calamine::{Data, DataRef, Reader};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read, Seek};

pub const SCHOOL_SHEET: (&str, &str) = ("学校", "Schools");
pub const EQUIPMENT_SHEET: (&str, &str) = ("设备", "Equipment");
/// The most rows one import takes (a county has hundreds of schools, thousands of devices).
pub const MAX_IMPORT_ROWS: usize = 50_000;
/// The most columns a sheet of an import may use: the templates have 16, Excel 2003 stopped at 256.
pub const MAX_IMPORT_COLUMNS: u32 = 256;
/// The most cells with a value one workbook may hold: 50,000 rows of the widest template is 800,000.
pub const MAX_IMPORT_CELLS: usize = 1_000_000;
/// The most bytes an uploaded workbook may expand to. A full template of 50,000 rows is about
/// 30 MB of XML; a 16 MB upload of repeated XML could expand to gigabytes, and calamine reads
/// the shared strings whole when it opens the file.
pub const MAX_IMPORT_EXPANDED_BYTES: u64 = 100 << 20;
/// The most text the cells of one workbook may hold: a shared string counts once per cell that
/// names it, so a million cells naming one long string would otherwise copy it a million times.
pub const MAX_IMPORT_TEXT_BYTES: usize = 64 << 20;
/// Workbooks parsed at once, each on a blocking thread: a parse is CPU and memory bound, and
/// more at once would only starve the rest of the server.
pub const PARALLEL_IMPORTS: usize = 2;

/// One column: the field it fills, its Chinese and English header.
pub(crate) type Col = (&'static str, &'static str, &'static str);

const SCHOOL_COLS: &[Col] = &[
    ("code", "学校编码", "Code"),
    ("name", "学校名称", "Name"),
    ("county", "县", "County"),
    ("town", "乡镇", "Town"),
    ("address", "地址", "Address"),
    ("travel_minutes", "路程(分钟)", "Travel (min)"),
    ("contacts[0].name", "联系人1", "Contact 1"),
    ("contacts[0].title", "职务1", "Title 1"),
    ("contacts[0].phone", "电话1", "Phone 1"),
    ("contacts[0].email", "邮箱1", "Email 1"),
    ("contacts[0].im", "QQ/微信1", "QQ/WeChat 1"),
    ("contacts[1].name", "联系人2", "Contact 2"),
    ("contacts[1].title", "职务2", "Title 2"),
    ("contacts[1].phone", "电话2", "Phone 2"),
    ("contacts[1].email", "邮箱2", "Email 2"),
    ("contacts[1].im", "QQ/微信2", "QQ/WeChat 2"),
];

const EQUIPMENT_COLS: &[Col] = &[
    ("customer_code", "学校编码", "School code"),
    ("system", "系统", "System"),
    ("kind", "类别", "Kind"),
    ("brand", "品牌", "Brand"),
    ("model", "型号", "Model"),
    ("serial_no", "序列号", "Serial no."),
    ("location", "位置", "Location"),
    ("installed_on", "安装日期", "Installed on"),
    ("warranty_until", "保修截止", "Warranty until"),
    ("critical", "关键设备", "Critical"),
    ("status", "状态", "Status"),
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

fn invalid_xlsx() -> FieldErrors {
    FieldErrors::single("file", "invalid_xlsx")
}

/// Opens an uploaded workbook once its real expanded size is known to be bounded.
pub(crate) fn open_upload(bytes: &[u8]) -> Result<calamine::Xlsx<Cursor<&[u8]>>, FieldErrors> {
    check_expanded_size(bytes, MAX_IMPORT_EXPANDED_BYTES)?;
    calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| invalid_xlsx())
}

/// Refuses a zip whose entries expand to more than `cap` bytes in all. The sizes a zip
/// declares can lie, so each entry is inflated into nothing and counted, stopping past the cap.
fn check_expanded_size(bytes: &[u8], cap: u64) -> Result<(), FieldErrors> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| invalid_xlsx())?;
    let mut left = cap;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|_| invalid_xlsx())?;
        let n = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink()).map_err(|_| invalid_xlsx())?;
        if n > left {
            return Err(FieldErrors::single("file", "too_much_data"));
        }
        left -= n;
    }
    Ok(())
}

/// What the sheets of one workbook may still hold (see [`MAX_IMPORT_CELLS`]).
pub(crate) struct Budget {
    cells: usize,
    text: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { cells: MAX_IMPORT_CELLS, text: MAX_IMPORT_TEXT_BYTES }
    }
}

/// One row of a sheet with a value in a known column: its number as Excel shows it, its text by field.
pub(crate) type SheetRow = (usize, HashMap<&'static str, String>);

/// A sheet as read: the fields its header row names, and the rows below it.
pub(crate) struct Sheet {
    pub fields: Vec<&'static str>,
    pub rows: Vec<SheetRow>,
}

/// Reads a sheet as a stream of cells, keeping only those with a value, so the grid a
/// sheet declares (up to XFD1048576) is never built. The first row with a value is the
/// header; columns are matched to `cols` by their Chinese or English header. A cell past
/// [`MAX_IMPORT_ROWS`] or [`MAX_IMPORT_COLUMNS`], or past the workbook's budget, refuses
/// the file before anything more is read.
pub(crate) fn read_sheet<RS: Read + Seek>(
    wb: &mut calamine::Xlsx<RS>,
    name: &str,
    cols: &[Col],
    budget: &mut Budget,
) -> Result<Sheet, FieldErrors> {
    let refuse = |code: &'static str| FieldErrors::single("file", code);
    let mut reader = wb.worksheet_cells_reader(name).map_err(|_| invalid_xlsx())?;
    let mut cells: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(|_| invalid_xlsx())? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        if row as usize > MAX_IMPORT_ROWS {
            return Err(refuse("too_many_rows"));
        }
        if col >= MAX_IMPORT_COLUMNS {
            return Err(refuse("too_many_columns"));
        }
        let len = match value {
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
            DataRef::SharedString(s) => s.len(),
            _ => 0,
        };
        budget.cells = budget.cells.checked_sub(1).ok_or_else(|| refuse("too_much_data"))?;
        budget.text = budget.text.checked_sub(len).ok_or_else(|| refuse("too_much_data"))?;
        if let Some(text) = ref_text(value) {
            cells.entry(row).or_default().push((col, text));
        }
    }
    let Some((_, header)) = cells.pop_first() else {
        return Ok(Sheet { fields: Vec::new(), rows: Vec::new() });
    };
    let by_col: HashMap<u32, &'static str> = header
        .iter()
        .filter_map(|(j, h)| {
            let h = h.trim_end_matches('*');
            cols.iter().find(|c| c.1 == h || c.2.eq_ignore_ascii_case(h)).map(|c| (*j, c.0))
        })
        .collect();
    let rows = cells
        .into_iter()
        .map(|(i, r)| {
            let m: HashMap<&'static str, String> =
                r.into_iter().filter_map(|(j, v)| by_col.get(&j).map(|f| (*f, v))).collect();
            (i as usize + 1, m)
        })
        .filter(|(_, m)| !m.is_empty())
        .collect();
    Ok(Sheet { fields: by_col.into_values().collect(), rows })
}

/// A streamed cell as [`cell_text`] reads it, less the `'` an export put before a formula character.
fn ref_text(v: &DataRef) -> Option<String> {
    let text = |s: &str| Some(unescape_formula(s.trim()).trim().to_owned()).filter(|s| !s.is_empty());
    match v {
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        other => cell_text(&Data::from(other.clone())),
    }
}

impl Services {
    /// Runs `parse` over an upload on a blocking thread, at most [`PARALLEL_IMPORTS`] at once,
    /// so a large workbook holds neither an async worker nor more than its share of memory.
    pub(crate) async fn parse_upload<T, F>(&self, bytes: &[u8], parse: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&[u8]) -> Result<T> + Send + 'static,
    {
        let permit = self.imports.clone().acquire_owned().await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || {
            // Held until the parse ends, even if the request that asked for it is gone.
            let _permit = permit;
            parse(&bytes)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
    }
}

impl Services {
    /// Imports the 学校 and 设备 sheets of a workbook (either may be missing). Every row
    /// is checked first; one bad row rejects the whole file with a report of all of them.
    pub async fn import_xlsx(&self, by: &Actor, bytes: &[u8]) -> Result<ImportSummary> {
        require(by.can_edit_installed_base())?;
        let (school_sheet, equipment_sheet) = self
            .parse_upload(bytes, |bytes| {
                let mut wb = open_upload(bytes)?;
                let names = wb.sheet_names();
                let school = find_sheet(&names, SCHOOL_SHEET);
                let equipment = find_sheet(&names, EQUIPMENT_SHEET);
                if school.is_none() && equipment.is_none() {
                    return Err(FieldErrors::single("file", "no_sheets").into());
                }
                let mut budget = Budget::default();
                let mut read = |name: Option<String>, cols: &[Col]| -> Result<Option<(String, Vec<SheetRow>)>> {
                    let Some(name) = name else { return Ok(None) };
                    let sheet = read_sheet(&mut wb, &name, cols, &mut budget)?;
                    Ok(Some((name, sheet.rows)))
                };
                Ok((read(school, SCHOOL_COLS)?, read(equipment, EQUIPMENT_COLS)?))
            })
            .await?;
        let mut errors = Vec::new();
        let mut err = |sheet: &str, row: usize, field: &str, code: &'static str| {
            errors.push(RowError { sheet: sheet.into(), row, field: field.into(), code });
        };

        let mut customers = Vec::new();
        let mut codes_in_file: HashMap<String, usize> = HashMap::new();
        if let Some((name, rows)) = school_sheet {
            let name = &name;
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
        if let Some((name, rows)) = equipment_sheet {
            let name = &name;
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
        // The example rows in the reader's language; the codes (system, status, yes/no)
        // are those the English export writes, which the import reads too.
        let school: &[&str] = if english {
            &[
                "QY-CG-01",
                "Chengguan Central Primary School",
                "Qingyang County",
                "Chengguan",
                "88 Renmin Road",
                "15",
                "Wang Jianguo",
                "Head of IT",
                "13905661234",
                "wangjg@example.edu.cn",
                "123456789",
            ]
        } else {
            &[
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
        };
        let equip: &[&str] = if english {
            &[
                "QY-CG-01",
                "surveillance",
                "IP camera",
                "Hikvision",
                "DS-2CD3T46WDV3-I3",
                "DS2CD3T46-E00012345",
                "Pole at the school gate",
                "2023-08-20",
                "2026-08-19",
                "no",
                "in_service",
            ]
        } else {
            &[
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
        };
        let school: Vec<String> = school.iter().map(|s| s.to_string()).collect();
        let equip: Vec<String> = equip.iter().map(|s| s.to_string()).collect();
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
    let system =
        System::parse(e.system.as_str()).map(|s| if english { s.as_str() } else { s.zh() }).unwrap_or_default();
    let status = EquipmentStatus::parse(e.status.as_str())
        .map(|s| if english { s.as_str() } else { s.zh() })
        .unwrap_or_default();
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
    add_sheet_with(wb, name, header, rows, &[])
}

/// A name a spreadsheet accepts for a sheet called after data (a person's name, a plate):
/// none of `[]:*?/\`, no apostrophe at either end, at most 31 characters, not empty, and
/// not one already `taken` (ignoring case): " (2)", " (3)"… is added.
fn sheet_name(wanted: &str, taken: &[String]) -> String {
    const MAX: usize = 31;
    let clean: String = wanted.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
    let clean = clean.trim_matches('\'').trim();
    let base: String = clean.chars().take(MAX).collect::<String>().trim_end_matches('\'').to_owned();
    let base = if base.is_empty() { "Sheet".to_owned() } else { base };
    let free = |n: &str| !taken.iter().any(|t| t.eq_ignore_ascii_case(n)) && !n.eq_ignore_ascii_case("History");
    if free(&base) {
        return base;
    }
    (2..)
        .map(|i| {
            let suffix = format!(" ({i})");
            let head: String = base.chars().take(MAX - suffix.chars().count()).collect();
            format!("{}{suffix}", head.trim_end_matches('\''))
        })
        .find(|n| free(n))
        .unwrap_or(base)
}

/// A sheet whose `numeric` columns are written as numbers wherever their text is one, so
/// quantities and prices add up in the spreadsheet; every other cell is text.
fn add_sheet_with(
    wb: &mut rust_xlsxwriter::Workbook,
    name: &str,
    header: Vec<&str>,
    rows: Vec<Vec<String>>,
    numeric: &[usize],
) -> Result<()> {
    let internal = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(e.to_string());
    let bold = rust_xlsxwriter::Format::new().set_bold().set_background_color("#E8EEF7");
    let taken: Vec<String> = wb.worksheets().iter().map(|w| w.name()).collect();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(name, &taken)).map_err(internal)?;
    for (j, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold).map_err(internal)?;
        ws.set_column_width(j as u16, 16).map_err(internal)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            let (row, col) = ((i + 1) as u32, j as u16);
            match v.trim().parse::<f64>() {
                Ok(n) if numeric.contains(&j) && n.is_finite() => ws.write_number(row, col, n).map_err(internal)?,
                // Text cells keep serials, phones and codes exactly as typed.
                _ => ws.write_string(row, col, v).map_err(internal)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0).map_err(internal)?;
    Ok(())
}

/// A table as an `.xlsx` workbook of one sheet, every cell text.
pub fn table_to_xlsx(sheet: &str, table: &[Vec<String>]) -> Result<Vec<u8>> {
    table_to_xlsx_with(sheet, table, &[])
}

/// A table as an `.xlsx` workbook of one sheet; the `numeric` columns (by index) are numbers.
pub fn table_to_xlsx_with(sheet: &str, table: &[Vec<String>], numeric: &[usize]) -> Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let (header, rows) =
        table.split_first().map(|(h, r)| (h.iter().map(String::as_str).collect(), r.to_vec())).unwrap_or_default();
    add_sheet_with(&mut wb, sheet, header, rows, numeric)?;
    wb.save_to_buffer().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Several tables as one `.xlsx` workbook, a sheet each (the first row of each its header).
pub fn tables_to_xlsx(sheets: &[(String, Vec<Vec<String>>)]) -> Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, table) in sheets {
        let (header, rows) =
            table.split_first().map(|(h, r)| (h.iter().map(String::as_str).collect(), r.to_vec())).unwrap_or_default();
        add_sheet_with(&mut wb, name, header, rows, &[])?;
    }
    wb.save_to_buffer().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell that a spreadsheet would run as a formula, made text by a leading `'`. Numbers such as
/// `-3` or `+86…` get it too: every exported cell is text anyway, and an import takes it off.
fn neutralise_formula(c: &str) -> std::borrow::Cow<'_, str> {
    if c.starts_with(FORMULA_START) { format!("'{c}").into() } else { c.into() }
}

/// The inverse of [`neutralise_formula`], so an export imports again as it was; any other `'` stays.
pub(crate) fn unescape_formula(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => s,
    }
}

/// A table as CSV (RFC 4180), with a byte-order mark so Excel opens the Chinese right, and no
/// cell a spreadsheet would run as a formula.
pub fn table_to_csv(table: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in table {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                let c = neutralise_formula(c);
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.into_owned()
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
    fn sheets_named_after_people_are_always_accepted() {
        // A person may be called anything: brackets, slashes, a long name, twice the same.
        let long = "维修工程师".repeat(8);
        let table = || vec![vec!["月份".to_owned()], vec!["2030-03".to_owned()]];
        let sheets = vec![
            ("张三[外聘]/技术:一组?".to_owned(), table()),
            (long.clone(), table()),
            (long.clone(), table()),
            ("'".to_owned(), table()),
            ("history".to_owned(), table()),
        ];
        let bytes = tables_to_xlsx(&sheets).expect("every name made acceptable");
        let wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = calamine::Reader::sheet_names(&wb);
        assert_eq!(names[0], "张三_外聘__技术_一组_");
        assert_eq!(names[1].chars().count(), 31);
        assert!(names[2].ends_with(" (2)") && names[2].chars().count() == 31, "{}", names[2]);
        assert_eq!(names[3], "Sheet");
        assert_eq!(names[4], "history (2)", "History is Excel's own");
    }

    /// A workbook of one sheet holding the given cells as text.
    fn book(sheet: &str, cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(sheet).unwrap();
        for (r, c, v) in cells {
            ws.write_string(*r, *c, *v).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    fn read(bytes: &[u8], cols: &[Col]) -> Result<Sheet, FieldErrors> {
        let mut wb = open_upload(bytes)?;
        let name = wb.sheet_names()[0].clone();
        read_sheet(&mut wb, &name, cols, &mut Budget::default())
    }

    fn refusal(r: Result<Sheet, FieldErrors>) -> &'static str {
        match r {
            Err(e) => e.0[0].code,
            Ok(s) => panic!("read {} rows", s.rows.len()),
        }
    }

    #[test]
    fn a_sheet_streams_into_rows_by_field_with_excel_row_numbers() {
        let bytes = book(
            "学校",
            &[
                (2, 1, "学校编码*"),
                (2, 3, "Name"),
                (2, 5, "无关"),
                (3, 1, "QY-01"),
                (3, 3, "'=1+1"),
                (5, 3, "  二小 "),
                (6, 5, "only an unknown column"),
                (7, 1, "'not a formula"),
            ],
        );
        let sheet = read(&bytes, SCHOOL_COLS).unwrap();
        let mut fields = sheet.fields.clone();
        fields.sort();
        assert_eq!(fields, ["code", "name"]);
        let rows: Vec<(usize, Vec<(&str, &str)>)> = sheet
            .rows
            .iter()
            .map(|(r, m)| {
                let mut v: Vec<_> = m.iter().map(|(k, v)| (*k, v.as_str())).collect();
                v.sort();
                (*r, v)
            })
            .collect();
        assert_eq!(
            rows,
            [
                (4, vec![("code", "QY-01"), ("name", "=1+1")]),
                (6, vec![("name", "二小")]),
                (8, vec![("code", "'not a formula")]),
            ]
        );
    }

    #[test]
    fn a_far_cell_is_refused_without_building_the_grid() {
        // A1 and XFD1048576: the grid calamine's worksheet_range would build is 512 GB.
        let far = book("学校", &[(0, 0, "学校编码"), (1_048_575, 16_383, "x")]);
        assert_eq!(refusal(read(&far, SCHOOL_COLS)), "too_many_rows");
        let wide = book("学校", &[(0, 0, "学校编码"), (1, MAX_IMPORT_COLUMNS as u16, "x")]);
        assert_eq!(refusal(read(&wide, SCHOOL_COLS)), "too_many_columns");
        // The last row allowed still reads.
        let last = book("学校", &[(0, 0, "学校编码"), (MAX_IMPORT_ROWS as u32, 0, "X-1")]);
        assert_eq!(
            read(&last, SCHOOL_COLS).unwrap().rows,
            [(MAX_IMPORT_ROWS + 1, HashMap::from([("code", "X-1".into())]))]
        );
    }

    #[test]
    fn the_budget_counts_cells_and_the_text_they_name() {
        let bytes = book("学校", &[(0, 0, "学校编码"), (1, 0, "A"), (2, 0, "B")]);
        let mut wb = open_upload(&bytes).unwrap();
        let mut few_cells = Budget { cells: 2, text: 1000 };
        assert_eq!(refusal(read_sheet(&mut wb, "学校", SCHOOL_COLS, &mut few_cells)), "too_much_data");
        let mut little_text = Budget { cells: 100, text: 13 };
        assert_eq!(refusal(read_sheet(&mut wb, "学校", SCHOOL_COLS, &mut little_text)), "too_much_data");
    }

    #[test]
    fn a_zip_is_measured_by_what_it_really_expands_to() {
        let bytes = book("学校", &[(0, 0, "学校编码"), (1, 0, &"x".repeat(10_000))]);
        assert!(check_expanded_size(&bytes, 1 << 20).is_ok());
        assert_eq!(check_expanded_size(&bytes, 10_000).unwrap_err().0[0].code, "too_much_data");
        assert_eq!(check_expanded_size(b"PK\x03\x04 no zip", 1 << 20).unwrap_err().0[0].code, "invalid_xlsx");
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_made_text() {
        for c in ['=', '+', '-', '@', '\t', '\r'] {
            let cell = format!("{c}HYPERLINK(\"http://x\",\"y\")");
            let csv = table_to_csv(&[vec![cell.clone()]]);
            let body = csv.trim_start_matches('\u{feff}').trim_end_matches("\r\n");
            let unquoted =
                body.strip_prefix('"').and_then(|b| b.strip_suffix('"')).unwrap_or(body).replace("\"\"", "\"");
            assert_eq!(unquoted, format!("'{cell}"), "{c:?}");
            // And an import takes the `'` off again.
            assert_eq!(unescape_formula(&unquoted), cell);
        }
        assert_eq!(
            table_to_csv(&[vec!["-3".into(), "+8613905661234".into(), "a=b".into(), "'x".into()]]),
            "\u{feff}'-3,'+8613905661234,a=b,'x\r\n"
        );
        assert_eq!(unescape_formula("'x"), "'x");
    }

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

/// Time and peak memory of reading hostile workbooks, for the record (not a check):
/// `cargo test --release -p aftercare-service --lib measure -- --ignored --nocapture`.
#[cfg(test)]
mod measure {
    use super::*;
    use std::io::Write;

    /// A workbook whose 学校 sheet is `mib` MiB of `filler`.
    fn bomb(filler: &[u8], mib: usize) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().set_name("学校").unwrap().write_string(0, 0, "学校编码").unwrap();
        let base = wb.save_to_buffer().unwrap();
        let mut src = zip::ZipArchive::new(Cursor::new(base)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for i in 0..src.len() {
            let f = src.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            if name != "xl/worksheets/sheet1.xml" {
                out.raw_copy_file(f).unwrap();
                continue;
            }
            out.start_file(name, o).unwrap();
            out.write_all(br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
            let chunk: Vec<u8> = filler.iter().copied().cycle().take((1 << 20) / filler.len() * filler.len()).collect();
            for _ in 0..mib {
                out.write_all(&chunk).unwrap();
            }
            out.write_all(b"</sheetData></worksheet>").unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn hwm() -> String {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .unwrap()
            .to_owned()
    }

    fn run(label: &str, bytes: &[u8]) {
        let t = std::time::Instant::now();
        let r = open_upload(bytes).and_then(|mut wb| read_sheet(&mut wb, "学校", SCHOOL_COLS, &mut Budget::default()));
        let code = match r {
            Ok(s) => format!("ok {} rows", s.rows.len()),
            Err(e) => e.0[0].code.to_string(),
        };
        eprintln!("{label}: {} bytes -> {code} in {:?}; {}", bytes.len(), t.elapsed(), hwm());
    }

    #[test]
    #[ignore = "a measurement: run it in a release build"]
    fn hostile_workbooks() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("学校").unwrap();
        ws.write_string(0, 0, "学校编码").unwrap();
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        run("A1 + XFD1048576", &wb.save_to_buffer().unwrap());
        run("95 MiB of empty cells (under the cap)", &bomb(br#"<c r="A1"></c>"#, 95));
        run("1.4 GiB of XML", &bomb(b"<c r=\"A1\"></c>", 1400));
    }
}
