//! The provincial export layout (CSV) merged onto the kiosk's catalogue.

use kiosk_catalogue::import::{ImportError, Table, merge, read_csv, to_tables, write_csv};
use kiosk_catalogue::{Catalogue, Kind, sample, validate};

fn unsampled(mut cat: Catalogue) -> Catalogue {
    cat.sample = false;
    cat.catalogue_version = "v".into();
    cat.items.iter_mut().for_each(|i| i.sample = false);
    cat
}

fn through_csv(t: &Table) -> Table {
    read_csv(&write_csv(t)).unwrap()
}

fn col(t: &Table, name: &str) -> usize {
    t.header.iter().position(|h| h == name).unwrap()
}

#[test]
fn an_unchanged_export_reproduces_the_catalogue() {
    let base = sample();
    let (items, materials) = to_tables(&base);
    let merged = merge(&base, &through_csv(&items), Some(&through_csv(&materials)), "v").unwrap();
    assert_eq!(merged, unsampled(base));
}

#[test]
fn a_provincial_update_changes_adds_and_withdraws_items() {
    let base = sample();
    let (mut items, mut materials) = to_tables(&base);
    let (name, code) = (col(&items, "事项名称"), col(&items, "实施编码"));
    items.rows[0][name] = "个人参保证明打印（新版）".into();
    let withdrawn = items.rows.remove(1)[code].clone();
    materials.rows.retain(|r| r[0] != withdrawn);
    let mut new_row = items.rows[2].clone();
    new_row[code] = format!("{}9990001", new_row[col(&items, "实施主体编码")]);
    new_row[name] = "新增事项示例".into();
    items.rows.push(new_row);

    let merged = merge(&base, &through_csv(&items), Some(&through_csv(&materials)), "2026.12").unwrap();
    assert_eq!(merged.catalogue_version, "2026.12");
    assert_eq!(merged.items[0].task_name, "个人参保证明打印（新版）");
    assert_eq!(merged.items[0].form, base.items[0].form, "kiosk fields survive an update");
    assert!(!merged.items.iter().any(|i| i.task_code == withdrawn));
    let added = merged.items.last().unwrap();
    assert_eq!(
        (added.kind, added.form.is_none()),
        (Kind::Info, true),
        "new items are guidance until a form is added"
    );
    let report = validate(&merged);
    assert!(report.is_ok(), "{:?}", report.errors);
}

#[test]
fn bad_cells_name_the_row_and_column() {
    let base = sample();
    let (mut items, _) = to_tables(&base);
    let fee = col(&items, "是否收费");
    items.rows[4][fee] = "也许".into();
    let err = merge(&base, &items, None, "v").unwrap_err().to_string();
    assert!(err.contains("row 6") && err.contains("是否收费") && err.contains("也许"), "{err}");

    let (mut items, _) = to_tables(&base);
    let dup = items.rows[0].clone();
    items.rows.push(dup);
    assert!(matches!(merge(&base, &items, None, "v"), Err(ImportError::Duplicate { .. })));

    let (mut items, _) = to_tables(&base);
    let code = col(&items, "实施编码");
    items.header[code] = "编码".into();
    assert!(matches!(
        merge(&base, &items, None, "v"),
        Err(ImportError::MissingColumn { column: "实施编码", .. })
    ));

    let (items, mut materials) = to_tables(&base);
    materials.rows[0][0] = "ZZ-NOT-THERE".into();
    assert!(matches!(merge(&base, &items, Some(&materials), "v"), Err(ImportError::Orphan { row: 2, .. })));
}

#[test]
fn an_xlsx_export_reads_like_the_csv_one() {
    let base = sample();
    let (items, materials) = to_tables(&base);
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, table) in [("事项", &items), ("申请材料", &materials)] {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for (c, h) in table.header.iter().enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        for (r, row) in table.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                // Numbers as numbers, as the provincial system writes them.
                match v.parse::<f64>() {
                    Ok(n) if !v.is_empty() && !v.starts_with('0') => {
                        sheet.write_number(r as u32 + 1, c as u16, n)
                    }
                    _ => sheet.write_string(r as u32 + 1, c as u16, v),
                }
                .unwrap();
            }
        }
    }
    let (items_x, materials_x) = kiosk_catalogue::import::read_xlsx(book.save_to_buffer().unwrap()).unwrap();
    let merged = merge(&base, &items_x, materials_x.as_ref(), "v").unwrap();
    assert_eq!(merged, unsampled(base));
}
