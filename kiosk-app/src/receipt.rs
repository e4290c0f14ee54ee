//! The resident's slip (申请回执, `reference/domain.md` §6.5): personal data masked, the case
//! number when the service network answered in time, else the kiosk's submission number, a
//! query password printed only here, and a tracking QR code that carries neither.

use kiosk_catalogue::Item;
use kiosk_catalogue::model::ProjectType;
use kiosk_escpos::{Align, Slip, Style};
use zeroize::Zeroizing;

/// Where residents follow their case; the QR code on the slip and on screen points here.
pub const TRACKING_BASE: &str = "https://zwfw.nanhai.example/t/";

#[derive(Debug, Clone)]
pub struct Receipt {
    pub item_name: String,
    pub item_code: String,
    pub department: String,
    /// Masked already.
    pub applicant: String,
    /// Masked already.
    pub id_number: String,
    /// China Standard Time, to the second.
    pub submitted_at: String,
    pub time_limit: String,
    /// (name, copies, form)
    pub materials: Vec<(String, String, String)>,
    /// Where to go for the one visit of a pre-application; empty for fully online items.
    pub visit: Option<(String, String)>,
    /// The idempotency key the service network files it under.
    pub submission_id: String,
    /// 办件编号, once the service network has filed it.
    pub case_number: Option<String>,
    pub query_password: Zeroizing<String>,
    pub kiosk_id: String,
}

impl Receipt {
    pub fn from_item(item: &Item, department: &str, submitted_at: String) -> Self {
        let time_limit = match (item.project_type, &item.promise) {
            (ProjectType::Immediate, _) => "即办件（当场办结）".to_owned(),
            (ProjectType::Promised, Some(p)) => format!("承诺件，{} 个{}", p.day, p.unit),
            (ProjectType::Promised, None) => "承诺件".to_owned(),
        };
        let materials = item
            .materials
            .iter()
            .map(|m| (m.material_name.clone(), m.page_num.max(1).to_string(), m.material_format.clone()))
            .collect();
        let visit = (item.kind == kiosk_catalogue::Kind::PreApplication)
            .then(|| (item.transact_addr.clone(), item.transact_time.clone()));
        Self {
            item_name: item.task_name.clone(),
            item_code: item.task_code.clone(),
            department: department.to_owned(),
            applicant: String::new(),
            id_number: String::new(),
            submitted_at,
            time_limit,
            materials,
            visit,
            submission_id: String::new(),
            case_number: None,
            query_password: Zeroizing::new(String::new()),
            kiosk_id: String::new(),
        }
    }

    /// The number the resident quotes: the case number, else the submission number.
    pub fn reference(&self) -> &str {
        self.case_number.as_deref().unwrap_or(&self.submission_id)
    }

    /// The tracking page; it asks for the query password, so the QR code alone reveals nothing.
    pub fn tracking_url(&self) -> String {
        format!("{TRACKING_BASE}{}", self.reference())
    }

    /// The slip as printed: the only place the query password appears.
    pub fn slip(&self) -> Slip {
        self.layout(&self.query_password)
    }

    /// The slip as the screen previews it: the query password is not kept on screen
    /// (`reference/domain.md` §6.5).
    pub fn preview(&self) -> Slip {
        self.layout("******（见打印凭条 on the printed slip）")
    }

    fn layout(&self, password: &str) -> Slip {
        let centre = Style { align: Align::Center, ..Style::default() };
        let filed = self.case_number.is_some();
        let mut slip = Slip::new()
            .title(if filed { "申请回执" } else { "申请（收件）回执" })
            .text_styled("佛山市南海区政务服务 · 市民之窗", centre);
        if !filed {
            slip = slip.text_styled("已提交，待受理；办件编号将以短信通知", centre);
        }
        slip = slip.separator();
        slip = match &self.case_number {
            Some(case) => slip.kv("办件编号", case),
            None => slip.kv("申办流水号", &self.submission_id),
        };
        slip = slip
            .kv("查询密码", password)
            .kv("事项名称", &self.item_name)
            .kv("实施编码", &self.item_code)
            .kv("受理部门", &self.department);
        if !self.applicant.is_empty() {
            slip = slip.kv("申请人", &self.applicant);
        }
        if !self.id_number.is_empty() {
            slip = slip.kv("证件号码", &self.id_number);
        }
        slip = slip.kv("提交时间", &self.submitted_at).kv("办件类型", &self.time_limit);
        if !self.materials.is_empty() {
            let mut rows: Vec<Vec<&str>> = vec![vec!["材料", "份数", "形式"]];
            rows.extend(self.materials.iter().map(|(n, c, f)| vec![n.as_str(), c.as_str(), f.as_str()]));
            let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
            slip = slip.table(&[3, 1, 1], &rows);
        }
        if let Some((address, hours)) = &self.visit {
            slip = slip
                .text("请携带以上材料原件到以下地点办理（最多跑一次）：")
                .kv("地点", address)
                .kv("时间", hours);
        }
        slip.separator()
            .qr(&self.tracking_url())
            .text_styled("扫码或登录广东政务服务网查询进度，或致电 12345", centre)
            .kv("终端编号", &self.kiosk_id)
            .text("本回执为查询凭证，请妥善保管。")
            .feed(2)
            .cut()
    }
}

/// A time in China Standard Time, to the second.
pub fn cst(t: time::OffsetDateTime) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).expect("a valid offset");
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(offset).format(&f).unwrap_or_default()
}

/// Milliseconds since the Unix epoch (the outbox's unit) in China Standard Time.
pub fn cst_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map(cst).unwrap_or_default()
}

/// Six digits from the random bits the shell hands in; not derived from anything about the
/// resident.
pub fn query_password(random: u32) -> Zeroizing<String> {
    Zeroizing::new(format!("{:06}", random % 1_000_000))
}
