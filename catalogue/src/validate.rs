//! The consistency rules real catalogue audits apply (`reference/domain.md` §2.6), plus the codes
//! and forms the kiosk depends on. An error names the item and the field, so the admin who
//! publishes a bad catalogue knows what to fix; a catalogue with errors is never applied.

use std::collections::HashSet;

use crate::model::{Catalogue, FieldKind, Item, ProjectType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `catalog_code 事项名称`, or `catalogue` for problems of the whole.
    pub item: String,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.item, self.field, self.message)
    }
}

/// Errors (the catalogue must not be used) and warnings (worth a look, not fatal).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn phone_ok(p: &str) -> bool {
    // Area code, a dash, a local number: 0757-12345678.
    match p.split_once('-') {
        Some((area, local)) => {
            area.starts_with('0')
                && (3..=4).contains(&area.len())
                && area.bytes().all(|b| b.is_ascii_digit())
                && (7..=8).contains(&local.len())
                && local.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn check_item(item: &Item, cat: &Catalogue, r: &mut Report) {
    let who = format!("{} {}", item.catalog_code, item.task_name);
    let mut err =
        |field: &'static str, message: String| r.errors.push(Problem { item: who.clone(), field, message });
    if item.task_name.trim().is_empty() || item.task_name.chars().count() > 1000 {
        err("task_name", "must be 1–1000 characters".into());
    }
    if item.catalog_code.len() > 12
        || item.catalog_code.is_empty()
        || !item.catalog_code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        err("catalog_code", "must be 1–12 letters or digits".into());
    }
    if item.task_code.len() > 36 || !item.task_code.starts_with(&item.dept_code) {
        err(
            "task_code",
            "must be at most 36 characters and begin with the implementing agency's code".into(),
        );
    }
    if !cat.departments.iter().any(|d| d.code == item.dept_code) {
        err("dept_code", format!("agency {} is not in the catalogue's departments", item.dept_code));
    }
    // Rule 1: 即办 promise ⇔ 即办件.
    let immediate = item.promise.as_ref().is_some_and(|p| p.day == 0);
    if immediate != (item.project_type == ProjectType::Immediate) {
        err("project_type", "a 即办 promised time limit goes with 即办件, any other with 承诺件".into());
    }
    // Rule 2: visits need a reason; no visit, no reason.
    let explained =
        item.limit_scene_explain.as_deref().is_some_and(|e| !e.trim().is_empty() && e.trim() != "无");
    if (item.limit_scene_num > 0) != explained {
        err("limit_scene_explain", "must say why a visit is needed exactly when limit_scene_num > 0".into());
    }
    // Rule 3: no visit and not fully online ⇒ it must be possible by post.
    let full_online = item.online_handle_depth == "IV";
    if item.limit_scene_num == 0
        && !full_online
        && !item.handle_type.iter().any(|h| h.contains("邮寄") || h.contains("快递"))
    {
        err(
            "handle_type",
            "an item needing no visit but not fully online must offer application by post".into(),
        );
    }
    // Rule 4: fully online ⇒ no visit.
    if full_online && item.limit_scene_num > 0 {
        err("limit_scene_num", "a fully online item (depth IV) cannot need a visit".into());
    }
    if !["I", "II", "III", "IV"].contains(&item.online_handle_depth.as_str()) {
        err("online_handle_depth", "must be I, II, III or IV".into());
    }
    // Rule 5: fees need their items and basis; no fee, no online payment.
    if item.is_fee && (item.fees.is_empty() || item.fees.iter().any(|f| f.basis.trim().is_empty())) {
        err("fees", "a charged item lists its fees with their legal basis".into());
    }
    if !item.is_fee && item.is_pay_online {
        err("is_pay_online", "an item without fees cannot take online payment".into());
    }
    // Rule 6: consultation and complaint phones, different, with area code.
    if !phone_ok(&item.link_way) || !phone_ok(&item.supervise_way) || item.link_way == item.supervise_way {
        err(
            "link_way",
            "consultation and complaint phones are both needed, different, with area code (0757-…)".into(),
        );
    }
    // Rule 7: 服务对象 agrees with the topics.
    let natural = item.server_type.iter().any(|s| s == "自然人");
    let legal = item.server_type.iter().any(|s| s != "自然人");
    if natural && item.user_topic_type.is_empty() {
        err("user_topic_type", "an item for natural persons needs a natural-person topic".into());
    }
    if legal && item.corp_topic_type.is_empty() {
        err("corp_topic_type", "an item for legal persons needs a legal-person topic".into());
    }
    for t in &item.user_topic_type {
        if !cat.user_topics.iter().any(|u| &u.code == t) {
            err("user_topic_type", format!("topic {t} is not in the catalogue's topics"));
        }
    }
    // Rule 8: the result's name agrees with its type.
    if let Some(name) = &item.result_name {
        let expected = if name.ends_with('证') {
            Some("出证办结")
        } else if name.ends_with('文') {
            Some("出文办结")
        } else if name.ends_with("批复") {
            Some("审批办结")
        } else {
            None
        };
        if let Some(expected) = expected
            && item.result_type.as_deref() != Some(expected)
        {
            err(
                "result_type",
                format!("a result named …{} is {expected}", name.chars().last().unwrap_or(' ')),
            );
        }
    }
    // Rule 9: the promise is within the legal limit.
    if let (Some(p), Some(a)) = (&item.promise, &item.anticipate)
        && p.unit == a.unit
        && p.day > a.day
    {
        err("promise", format!("promised {} {} exceeds the legal {} {}", p.day, p.unit, a.day, a.unit));
    }
    // The kiosk's own needs: a usable form.
    if let Some(form) = &item.form {
        let mut keys = HashSet::new();
        for f in &form.fields {
            if !keys.insert(f.key.as_str()) {
                err("form", format!("field key {} appears twice", f.key));
            }
            if f.kind == FieldKind::Choice && f.choices.is_empty() {
                err("form", format!("choice field {} has no choices", f.key));
            }
            if let (Some(lo), Some(hi)) = (f.min_len, f.max_len)
                && lo > hi
            {
                err("form", format!("field {} has min_len above max_len", f.key));
            }
        }
    } else if matches!(
        item.kind,
        crate::model::Kind::Online | crate::model::Kind::PreApplication | crate::model::Kind::Job
    ) {
        err("form", "an item the kiosk takes applications for needs a form".into());
    }
    // The district's lists against the visit count: reported, not trusted blindly (§2.8).
    if item.lists.bujianmian != item.no_visit() || (item.lists.zuiduopaoyici && !item.at_most_one_visit()) {
        r.warnings.push(Problem {
            item: who.clone(),
            field: "lists",
            message: format!(
                "published list membership disagrees with limit_scene_num = {}",
                item.limit_scene_num
            ),
        });
    }
}

/// Checks a whole catalogue.
pub fn validate(cat: &Catalogue) -> Report {
    let mut r = Report::default();
    let whole = |field: &'static str, message: String| Problem { item: "catalogue".into(), field, message };
    if cat.catalogue_version.trim().is_empty() {
        r.errors.push(whole("catalogue_version", "must be set".into()));
    }
    let mut codes = HashSet::new();
    for item in &cat.items {
        if !codes.insert(item.task_code.as_str()) {
            r.errors.push(whole("task_code", format!("{} appears twice", item.task_code)));
        }
        check_item(item, cat, &mut r);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(phone_ok("0757-00000101"));
        assert!(!phone_ok("075700000101"));
        assert!(!phone_ok("757-00000101"));
        assert!(!phone_ok("0757-12"));
    }
}
