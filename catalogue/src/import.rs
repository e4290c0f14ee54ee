//! Admins' spreadsheets: the provincial item system exports one row per item under the national
//! field names in Chinese (domain.md §2.4), and materials as a second table keyed by 实施编码.
//! That export has no kiosk fields (kind, form, synonyms, how the kiosk gets each material), so
//! it is merged onto the kiosk's current catalogue (the base): rows update the national fields of
//! the item with the same 实施编码, new items arrive as guidance only (a department adds a form
//! to take applications), and items no longer exported are withdrawn.
//!
//! The readers are format-neutral: CSV and XLSX both become [`Table`]s.
//! Importing needs a base; with an empty one every item arrives as guidance only.

use std::collections::HashMap;

use crate::model::{Catalogue, Department, Item, Kind, Lists, Material, ProjectType, TimeLimit};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{table}: missing column {column}")]
    MissingColumn { table: &'static str, column: &'static str },
    #[error("{table} row {row} ({task_code}): {column}: {reason}")]
    Cell { table: &'static str, row: usize, task_code: String, column: &'static str, reason: String },
    #[error("{table} row {row}: 实施编码 {task_code} appears twice")]
    Duplicate { table: &'static str, row: usize, task_code: String },
    #[error("materials row {row}: 实施编码 {task_code} is not in the items table")]
    Orphan { row: usize, task_code: String },
}

/// A sheet: a header row and data rows, cells as text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

struct Row<'a> {
    table: &'static str,
    n: usize,
    cells: &'a [String],
    cols: &'a HashMap<&'a str, usize>,
    task_code: String,
}

impl Row<'_> {
    fn get(&self, column: &'static str) -> Option<&str> {
        let v = self.cols.get(column).and_then(|&i| self.cells.get(i)).map(|s| s.trim())?;
        (!v.is_empty()).then_some(v)
    }

    fn text(&self, column: &'static str) -> String {
        self.get(column).unwrap_or_default().to_owned()
    }

    fn bad(&self, column: &'static str, reason: impl Into<String>) -> ImportError {
        ImportError::Cell {
            table: self.table,
            row: self.n,
            task_code: self.task_code.clone(),
            column,
            reason: reason.into(),
        }
    }

    fn required(&self, column: &'static str) -> Result<String, ImportError> {
        self.get(column).map(str::to_owned).ok_or_else(|| self.bad(column, "is empty"))
    }

    fn number(&self, column: &'static str) -> Result<Option<u32>, ImportError> {
        self.get(column)
            .map(|v| v.parse().map_err(|_| self.bad(column, format!("{v:?} is not a whole number"))))
            .transpose()
    }

    fn yes_no(&self, column: &'static str) -> Result<bool, ImportError> {
        match self.get(column) {
            Some("是" | "Y" | "y" | "1" | "true") => Ok(true),
            Some("否" | "N" | "n" | "0" | "false") | None => Ok(false),
            Some(v) => Err(self.bad(column, format!("{v:?} must be 是 or 否"))),
        }
    }

    /// Multi-valued cells: the export separates values with 、 ； ; or line breaks.
    fn list(&self, column: &'static str) -> Vec<String> {
        self.get(column)
            .map(|v| {
                v.split(['、', '；', ';', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn limit(&self, day: &'static str, unit: &'static str) -> Result<Option<TimeLimit>, ImportError> {
        Ok(self
            .number(day)?
            .map(|d| TimeLimit { day: d, unit: self.get(unit).unwrap_or("工作日").to_owned() }))
    }
}

fn columns<'a>(
    t: &'a Table,
    table: &'static str,
    required: &[&'static str],
) -> Result<HashMap<&'a str, usize>, ImportError> {
    let cols: HashMap<&str, usize> = t.header.iter().enumerate().map(|(i, h)| (h.trim(), i)).collect();
    match required.iter().find(|c| !cols.contains_key(*c)) {
        Some(column) => Err(ImportError::MissingColumn { table, column }),
        None => Ok(cols),
    }
}

fn rows<'a>(
    t: &'a Table,
    table: &'static str,
    cols: &'a HashMap<&'a str, usize>,
) -> impl Iterator<Item = Row<'a>> + 'a {
    t.rows.iter().enumerate().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty())).map(
        move |(i, cells)| {
            // Row numbers as the admin sees them in the sheet: the header is row 1.
            let mut row = Row { table, n: i + 2, cells, cols, task_code: String::new() };
            row.task_code = row.text("实施编码");
            row
        },
    )
}

/// 事项类型 as a name or as its code.
fn task_type(row: &Row) -> Result<String, ImportError> {
    const TYPES: [(&str, &str); 11] = [
        ("行政许可", "XK"),
        ("行政处罚", "CF"),
        ("行政强制", "QZ"),
        ("行政征收", "ZS"),
        ("行政给付", "GF"),
        ("行政检查", "JC"),
        ("行政确认", "QR"),
        ("行政奖励", "JL"),
        ("行政裁决", "CJ"),
        ("其他行政权力", "QT"),
        ("公共服务", "GG"),
    ];
    let v = row.required("事项类型")?;
    TYPES
        .iter()
        .find(|(name, code)| *name == v || *code == v)
        .map(|(_, code)| (*code).to_owned())
        .ok_or_else(|| row.bad("事项类型", format!("{v:?} is not a known item type")))
}

/// 网上办理深度 in the export's Roman numerals (Ⅰ–Ⅳ or I–IV).
fn depth(row: &Row) -> Result<String, ImportError> {
    let v = row.required("网上办理深度")?;
    let ascii = match v.as_str() {
        "Ⅰ" | "I" => "I",
        "Ⅱ" | "II" => "II",
        "Ⅲ" | "III" => "III",
        "Ⅳ" | "IV" => "IV",
        _ => return Err(row.bad("网上办理深度", format!("{v:?} must be Ⅰ, Ⅱ, Ⅲ or Ⅳ"))),
    };
    Ok(ascii.to_owned())
}

/// Topic names as the export writes them, mapped to the base catalogue's codes.
fn topics(
    row: &Row,
    column: &'static str,
    known: &[crate::model::Topic],
) -> Result<Vec<String>, ImportError> {
    row.list(column)
        .into_iter()
        .map(|v| {
            known
                .iter()
                .find(|t| t.name == v || t.code == v)
                .map(|t| t.code.clone())
                .ok_or_else(|| row.bad(column, format!("topic {v:?} is not in the catalogue's topics")))
        })
        .collect()
}

const ITEM_COLUMNS: [&str; 5] = ["事项名称", "基本编码", "实施编码", "事项类型", "实施主体编码"];
const MATERIAL_COLUMNS: [&str; 2] = ["实施编码", "材料名称"];

/// Merges a provincial export onto `base`; the result still has to pass [`crate::validate`].
pub fn merge(
    base: &Catalogue,
    items: &Table,
    materials: Option<&Table>,
    version: &str,
) -> Result<Catalogue, ImportError> {
    let cols = columns(items, "items", &ITEM_COLUMNS)?;
    let previous: HashMap<&str, &Item> = base.items.iter().map(|i| (i.task_code.as_str(), i)).collect();
    let mut out =
        Catalogue { catalogue_version: version.to_owned(), sample: false, items: Vec::new(), ..base.clone() };
    let mut seen = HashMap::new();
    for row in rows(items, "items", &cols) {
        let task_code = row.required("实施编码")?;
        if seen.insert(task_code.clone(), out.items.len()).is_some() {
            return Err(ImportError::Duplicate { table: "items", row: row.n, task_code });
        }
        let dept_code = row.required("实施主体编码")?;
        if !out.departments.iter().any(|d| d.code == dept_code) {
            let name = row.required("实施主体")?;
            out.departments.push(Department { code: dept_code.clone(), name });
        }
        let mut item = match previous.get(task_code.as_str()) {
            Some(&old) => old.clone(),
            None => Item {
                task_name: String::new(),
                catalog_code: String::new(),
                task_code: task_code.clone(),
                task_type: String::new(),
                dept_code: String::new(),
                kind: Kind::Info,
                project_type: ProjectType::Promised,
                anticipate: None,
                promise: None,
                limit_scene_num: 0,
                limit_scene_explain: None,
                handle_type: Vec::new(),
                online_handle_depth: String::new(),
                is_fee: false,
                fees: Vec::new(),
                is_pay_online: false,
                server_type: Vec::new(),
                user_topic_type: Vec::new(),
                corp_topic_type: Vec::new(),
                accept_condition: String::new(),
                handle_flow: Vec::new(),
                materials: Vec::new(),
                form: None,
                link_way: String::new(),
                supervise_way: String::new(),
                transact_addr: String::new(),
                transact_time: String::new(),
                handle_area: String::new(),
                is_service_terminals: false,
                is_schedule: false,
                synonyms: Vec::new(),
                result_name: None,
                result_type: None,
                lists: Lists::default(),
                sample: false,
            },
        };
        item.task_name = row.required("事项名称")?;
        item.catalog_code = row.required("基本编码")?;
        item.task_type = task_type(&row)?;
        item.dept_code = dept_code;
        item.project_type = match row.get("办件类型") {
            Some("即办件") => ProjectType::Immediate,
            Some("承诺件") | None => ProjectType::Promised,
            Some(v) => return Err(row.bad("办件类型", format!("{v:?} must be 即办件 or 承诺件"))),
        };
        item.anticipate = row.limit("法定办结时限", "法定办结时限单位")?;
        item.promise = row.limit("承诺办结时限", "承诺办结时限单位")?;
        item.limit_scene_num = row.number("到办事现场次数")?.unwrap_or(0);
        item.limit_scene_explain = row.get("必须现场办理原因说明").map(str::to_owned);
        item.handle_type = row.list("办理形式");
        item.online_handle_depth = depth(&row)?;
        item.is_fee = row.yes_no("是否收费")?;
        item.is_pay_online = row.yes_no("是否支持网上支付")?;
        item.server_type = row.list("服务对象");
        item.user_topic_type = topics(&row, "面向自然人事项主题分类", &base.user_topics)?;
        item.corp_topic_type = topics(&row, "面向法人事项主题分类", &base.corp_topics)?;
        item.accept_condition = row.text("受理条件");
        item.handle_flow = row.list("办理流程");
        item.link_way = row.text("咨询方式");
        item.supervise_way = row.text("监督投诉方式");
        item.transact_addr = row.text("办理地点");
        item.transact_time = row.text("办理时间");
        item.handle_area = row.text("通办范围");
        item.is_service_terminals = row.yes_no("是否支持终端办理")?;
        item.is_schedule = row.yes_no("是否支持预约办理")?;
        item.result_name = row.get("审批结果名称").map(str::to_owned);
        item.result_type = row.get("审批结果类型").map(str::to_owned);
        item.sample = false;
        out.items.push(item);
    }
    if let Some(materials) = materials {
        merge_materials(&mut out, &previous, &seen, materials)?;
    }
    Ok(out)
}

/// Replaces the materials of every item the table mentions, keeping how the kiosk gets each
/// material (a kiosk field) where the name matches the old list.
fn merge_materials(
    out: &mut Catalogue,
    previous: &HashMap<&str, &Item>,
    index: &HashMap<String, usize>,
    t: &Table,
) -> Result<(), ImportError> {
    let cols = columns(t, "materials", &MATERIAL_COLUMNS)?;
    let mut replaced: HashMap<usize, Vec<Material>> = HashMap::new();
    for row in rows(t, "materials", &cols) {
        let Some(&at) = index.get(&row.task_code) else {
            return Err(ImportError::Orphan { row: row.n, task_code: row.task_code.clone() });
        };
        let name = row.required("材料名称")?;
        let acquire = previous
            .get(row.task_code.as_str())
            .and_then(|old| old.materials.iter().find(|m| m.material_name == name))
            .map_or_else(|| "original".to_owned(), |m| m.kiosk_acquire.clone());
        replaced.entry(at).or_default().push(Material {
            material_name: name,
            material_type: row.get("材料类型").unwrap_or("原件").to_owned(),
            material_format: row.get("材料形式").unwrap_or("纸质").to_owned(),
            page_num: row.number("份数")?.unwrap_or(1),
            is_need: row.get("材料必要性").unwrap_or("必要").to_owned(),
            source_type: row.get("来源渠道").unwrap_or("申请人自备").to_owned(),
            kiosk_acquire: acquire,
        });
    }
    for (at, list) in replaced {
        out.items[at].materials = list;
    }
    Ok(())
}

/// A CSV export (UTF-8, with or without a byte-order mark, as spreadsheet programs write it).
pub fn read_csv(bytes: &[u8]) -> Result<Table, csv::Error> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let header = reader.headers()?.iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<Result<_, _>>()?;
    Ok(Table { header, rows })
}

/// An XLSX export: the first sheet holds the items; a sheet named 申请材料 (or else the second
/// sheet), the materials.
pub fn read_xlsx(bytes: Vec<u8>) -> Result<(Table, Option<Table>), calamine::Error> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))?;
    let names = book.sheet_names();
    let mut sheet = |name: &str| -> Result<Table, calamine::Error> {
        let range = book.worksheet_range(name)?;
        let mut rows = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        Ok(Table { header: rows.next().unwrap_or_default(), rows: rows.collect() })
    };
    let items = match names.first() {
        Some(first) => sheet(first)?,
        None => Table::default(),
    };
    let materials = names.iter().skip(1).find(|n| *n == "申请材料").or_else(|| names.get(1));
    let materials = materials.map(|n| sheet(n)).transpose()?;
    Ok((items, materials))
}

/// The reverse, for tests and for admins who want a template: the catalogue as the provincial
/// layout (items table and materials table).
pub fn to_tables(cat: &Catalogue) -> (Table, Table) {
    let header: Vec<String> = [
        "事项名称",
        "基本编码",
        "实施编码",
        "事项类型",
        "实施主体",
        "实施主体编码",
        "办件类型",
        "法定办结时限",
        "法定办结时限单位",
        "承诺办结时限",
        "承诺办结时限单位",
        "到办事现场次数",
        "必须现场办理原因说明",
        "办理形式",
        "网上办理深度",
        "是否收费",
        "是否支持网上支付",
        "服务对象",
        "面向自然人事项主题分类",
        "面向法人事项主题分类",
        "受理条件",
        "办理流程",
        "咨询方式",
        "监督投诉方式",
        "办理地点",
        "办理时间",
        "通办范围",
        "是否支持终端办理",
        "是否支持预约办理",
        "审批结果名称",
        "审批结果类型",
    ]
    .map(str::to_owned)
    .to_vec();
    let yn = |b: bool| if b { "是" } else { "否" }.to_owned();
    let topic_names = |codes: &[String], known: &[crate::model::Topic]| {
        codes
            .iter()
            .map(|c| known.iter().find(|t| &t.code == c).map_or(c.clone(), |t| t.name.clone()))
            .collect::<Vec<_>>()
            .join("、")
    };
    let limit = |l: &Option<TimeLimit>| {
        l.as_ref().map_or((String::new(), String::new()), |l| (l.day.to_string(), l.unit.clone()))
    };
    let mut items = Table { header, rows: Vec::new() };
    let mut materials = Table {
        header: ["实施编码", "材料名称", "材料类型", "材料形式", "份数", "材料必要性", "来源渠道"]
            .map(str::to_owned)
            .to_vec(),
        rows: Vec::new(),
    };
    for it in &cat.items {
        let dept = cat.departments.iter().find(|d| d.code == it.dept_code).map_or("", |d| d.name.as_str());
        let (a, au) = limit(&it.anticipate);
        let (p, pu) = limit(&it.promise);
        items.rows.push(vec![
            it.task_name.clone(),
            it.catalog_code.clone(),
            it.task_code.clone(),
            it.task_type.clone(),
            dept.to_owned(),
            it.dept_code.clone(),
            match it.project_type {
                ProjectType::Immediate => "即办件",
                ProjectType::Promised => "承诺件",
            }
            .to_owned(),
            a,
            au,
            p,
            pu,
            it.limit_scene_num.to_string(),
            it.limit_scene_explain.clone().unwrap_or_default(),
            it.handle_type.join("、"),
            it.online_handle_depth.clone(),
            yn(it.is_fee),
            yn(it.is_pay_online),
            it.server_type.join("、"),
            topic_names(&it.user_topic_type, &cat.user_topics),
            topic_names(&it.corp_topic_type, &cat.corp_topics),
            it.accept_condition.clone(),
            it.handle_flow.join("；"),
            it.link_way.clone(),
            it.supervise_way.clone(),
            it.transact_addr.clone(),
            it.transact_time.clone(),
            it.handle_area.clone(),
            yn(it.is_service_terminals),
            yn(it.is_schedule),
            it.result_name.clone().unwrap_or_default(),
            it.result_type.clone().unwrap_or_default(),
        ]);
        for m in &it.materials {
            materials.rows.push(vec![
                it.task_code.clone(),
                m.material_name.clone(),
                m.material_type.clone(),
                m.material_format.clone(),
                m.page_num.to_string(),
                m.is_need.clone(),
                m.source_type.clone(),
            ]);
        }
    }
    (items, materials)
}

/// Writes a table as CSV with a byte-order mark, so spreadsheet programs open the Chinese right.
pub fn write_csv(t: &Table) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&t.header).expect("writing to memory");
        for r in &t.rows {
            w.write_record(r).expect("writing to memory");
        }
        w.flush().expect("writing to memory");
    }
    out
}
