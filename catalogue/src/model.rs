//! A catalogue as the district publishes it: items after the national implementation-list
//! fields (`reference/domain.md` §2.4, keys as in the national exchange tables), plus what the
//! kiosk needs to take an application: the item's kind and its form.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub catalogue_version: String,
    /// Invented data for development and the demo; never shown to residents as real.
    #[serde(default)]
    pub sample: bool,
    #[serde(default)]
    pub notice: Option<String>,
    pub departments: Vec<Department>,
    pub user_topics: Vec<Topic>,
    #[serde(default)]
    pub corp_topics: Vec<Topic>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// 统一社会信用代码 (18 characters).
    pub code: String,
    pub name: String,
}

/// A life-event topic (自然人/法人主题分类).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub code: String,
    pub name: String,
}

/// How the kiosk serves an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 不见面办事: the kiosk submits everything.
    Online,
    /// 最多跑一次: the kiosk submits what it can and books the one visit; the slip lists what to
    /// bring and where to go.
    PreApplication,
    /// Guidance only.
    Info,
    /// The district's recruitment: browse the opening and apply with a form.
    Job,
    /// A live query of the resident's own record at the service network (after card
    /// identification), e.g. `{"query": "housing_fund"}` in JSON.
    Query(Record),
}

/// Which of a resident's records a query item shows; the service network's name for it is
/// [`Record::code`] (`kiosk_sync_proto::live::record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// 社保缴费记录.
    SocialInsurance,
    /// 公积金余额与明细.
    HousingFund,
}

impl Record {
    pub fn code(self) -> &'static str {
        match self {
            Record::SocialInsurance => "social_insurance",
            Record::HousingFund => "housing_fund",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectType {
    #[serde(rename = "即办件")]
    Immediate,
    #[serde(rename = "承诺件")]
    Promised,
}

/// A time limit; day 0 means 即办 (on the spot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub day: u32,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    pub standard: String,
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub material_name: String,
    /// 原件, 复印件, 原件和复印件.
    pub material_type: String,
    /// 纸质, 电子, 纸质+电子.
    pub material_format: String,
    pub page_num: u32,
    /// 必要, 非必要, 容缺后补 …
    pub is_need: String,
    pub source_type: String,
    /// How the kiosk gets it: read_card, licence (电子证照库), form, camera, original (shown at a
    /// window).
    pub kiosk_acquire: String,
}

/// What a form field holds; drives the on-screen keyboard and the validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Digits,
    IdNumber,
    Phone,
    Date,
    Choice,
}

/// Card fields a form field may be pre-filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    Name,
    IdNumber,
    CurrentAddress,
    BirthDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub kind: FieldKind,
    pub required: bool,
    #[serde(default)]
    pub prefill: Option<CardField>,
    #[serde(default)]
    pub min_len: Option<u32>,
    #[serde(default)]
    pub max_len: Option<u32>,
    #[serde(default)]
    pub choices: Vec<String>,
}

/// A generic form: a department can publish a new one in a catalogue update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub fields: Vec<Field>,
}

/// Membership of the district's published lists (may disagree with the visit count; see
/// [`crate::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Lists {
    pub bujianmian: bool,
    pub zuiduopaoyici: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub task_name: String,
    /// 基本编码.
    pub catalog_code: String,
    /// 实施编码.
    pub task_code: String,
    /// 事项类型 code: XK, QR, GF, GG …
    pub task_type: String,
    pub dept_code: String,
    pub kind: Kind,
    pub project_type: ProjectType,
    /// 法定办结时限.
    pub anticipate: Option<TimeLimit>,
    /// 承诺办结时限.
    pub promise: Option<TimeLimit>,
    /// 到办事现场次数.
    pub limit_scene_num: u32,
    pub limit_scene_explain: Option<String>,
    pub handle_type: Vec<String>,
    /// 网上办理深度, Ⅰ–Ⅳ written I–IV (IV = 全程网办).
    pub online_handle_depth: String,
    pub is_fee: bool,
    #[serde(default)]
    pub fees: Vec<Fee>,
    pub is_pay_online: bool,
    pub server_type: Vec<String>,
    pub user_topic_type: Vec<String>,
    #[serde(default)]
    pub corp_topic_type: Vec<String>,
    pub accept_condition: String,
    pub handle_flow: Vec<String>,
    pub materials: Vec<Material>,
    pub form: Option<Form>,
    /// 咨询电话 and 监督投诉电话.
    pub link_way: String,
    pub supervise_way: String,
    pub transact_addr: String,
    pub transact_time: String,
    pub handle_area: String,
    /// 是否支持终端办理: the flag a kiosk catalogue filters on.
    pub is_service_terminals: bool,
    pub is_schedule: bool,
    /// Words residents use for the item (社保 for 社会保险 …).
    #[serde(default)]
    pub synonyms: Vec<String>,
    pub result_name: Option<String>,
    pub result_type: Option<String>,
    #[serde(default)]
    pub lists: Lists,
    #[serde(default)]
    pub sample: bool,
}

impl Item {
    /// 不见面办事: no visit at all.
    pub fn no_visit(&self) -> bool {
        self.limit_scene_num == 0
    }

    /// 最多跑一次: at most one visit.
    pub fn at_most_one_visit(&self) -> bool {
        self.limit_scene_num <= 1
    }
}

/// What the kiosk needs of an item to list and search it; the rest of the item is read only
/// when a resident opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub task_name: String,
    pub catalog_code: String,
    pub task_code: String,
    pub dept_code: String,
    pub kind: Kind,
    pub user_topic_type: Vec<String>,
    pub corp_topic_type: Vec<String>,
    pub synonyms: Vec<String>,
    pub limit_scene_num: u32,
    pub is_service_terminals: bool,
    /// The conditions and the steps, searched when names find too little.
    pub description: String,
}

impl From<&Item> for Summary {
    fn from(it: &Item) -> Self {
        Self {
            task_name: it.task_name.clone(),
            catalog_code: it.catalog_code.clone(),
            task_code: it.task_code.clone(),
            dept_code: it.dept_code.clone(),
            kind: it.kind,
            user_topic_type: it.user_topic_type.clone(),
            corp_topic_type: it.corp_topic_type.clone(),
            synonyms: it.synonyms.clone(),
            limit_scene_num: it.limit_scene_num,
            is_service_terminals: it.is_service_terminals,
            description: format!("{} {}", it.accept_condition, it.handle_flow.join(" ")),
        }
    }
}
