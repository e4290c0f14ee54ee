//! The masked summary slip of a records page: holder masked, the account as the service network
//! masked it, the summary and the page's lines. Like the application's slip, it is a document
//! in Chinese whatever the screen's language.

use kiosk_catalogue::model::Record;
use kiosk_escpos::{Align, Slip, Style};
use kiosk_sync_proto::live::Records;

use crate::lookup::{Lookup, yuan};
use crate::view::{FigureKey, RecordFigure, RowKind};

/// The slip's words for a record, a row kind and a summary figure: the slip is an official
/// document in Chinese whatever the screen's language.
fn record_title(record: Record) -> &'static str {
    match record {
        Record::SocialInsurance => "社会保险缴费记录",
        Record::HousingFund => "住房公积金余额及明细",
    }
}

/// A kind this kiosk does not know is printed in the service network's own code.
fn kind_words(kind: RowKind) -> Option<&'static str> {
    Some(match kind {
        RowKind::Pension => "养老保险",
        RowKind::Medical => "医疗保险",
        RowKind::Unemployment => "失业保险",
        RowKind::Injury => "工伤保险",
        RowKind::Deposit => "汇缴",
        RowKind::Withdrawal => "提取",
        RowKind::Interest => "结息",
        RowKind::Other => return None,
    })
}

fn figure_words(key: FigureKey) -> Option<&'static str> {
    Some(match key {
        FigureKey::Balance => "账户余额（元）",
        FigureKey::MonthlyDeposit => "月缴存额（元）",
        FigureKey::MonthsPaid => "累计缴费月数",
        FigureKey::TotalPersonal => "个人累计缴费（元）",
        FigureKey::TotalEmployer => "单位累计缴费（元）",
        FigureKey::Other => return None,
    })
}

/// The masked summary slip of the page shown: holder masked, account as the service network
/// masked it, the summary and the page's rows.
pub fn slip(lookup: &Lookup, records: &Records, kiosk_id: &str, printed_at: &str) -> Slip {
    let centre = Style { align: Align::Center, ..Style::default() };
    let mut slip = Slip::new()
        .title(record_title(lookup.record))
        .text_styled("佛山市南海区政务服务 · 市民之窗", centre)
        .separator()
        .kv("姓名", &lookup.holder)
        .kv("证件号码", &lookup.holder_number)
        .kv("账号", &records.account)
        .kv("数据截至", &records.as_of);
    for f in &records.summary {
        let figure = RecordFigure::of(f);
        slip = slip.kv(figure_words(figure.key).unwrap_or(&f.key), &figure.value);
    }
    let amounts: Vec<[String; 3]> = records
        .rows
        .iter()
        .map(|r| {
            [r.period.clone(), kind_words(RowKind::of(&r.kind)).unwrap_or(&r.kind).to_owned(), yuan(r.amount)]
        })
        .collect();
    let mut rows: Vec<Vec<&str>> = vec![vec!["期间", "项目", "金额（元）"]];
    rows.extend(amounts.iter().map(|r| r.iter().map(String::as_str).collect()));
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    slip.separator()
        .table(&[2, 2, 2], &rows)
        .text(&format!("第 {} / {} 页", records.page + 1, records.pages))
        .separator()
        .kv("打印时间", printed_at)
        .kv("终端编号", kiosk_id)
        .text("本凭条仅供个人查询参考，不作证明使用。")
        .feed(2)
        .cut()
}
