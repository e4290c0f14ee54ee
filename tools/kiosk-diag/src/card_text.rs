//! A card as lines a person reads: Chinese label first, English second.

use kiosk_idcard::card::{CardJson, Sex};
use kiosk_idcard::photo::{NoPhotoDecoder, PhotoDecoder};
use kiosk_idcard::{CardKind, IdCard, SamId};
use unicode_width::UnicodeWidthStr;

pub fn render(card: &IdCard, sam: Option<&SamId>, unmasked: bool) -> String {
    let full = CardJson::from(card);
    let j = if unmasked { full.clone() } else { full.masked() };
    let mut lines: Vec<(&str, String)> = Vec::new();
    let kind = CardKind::from_key(&j.card_type)
        .map_or(j.card_type.clone(), |k| format!("{} ({})", k.name_zh(), k.key()));
    lines.push(("证件类型 Card type", kind));
    if !j.name.is_empty() {
        lines.push(("姓名 Name", j.name.clone()));
    }
    if let Some(n) = &j.name_en {
        lines.push(("英文姓名 English name", n.clone()));
    }
    let sex = Sex::from_key(&j.sex).map_or(j.sex.clone(), |s| format!("{} ({})", s.name_zh(), s.key()));
    lines.push(("性别 Sex", sex));
    if let Some(e) = &j.ethnicity {
        lines.push(("民族 Ethnicity", e.clone()));
    }
    if let Some(n) = &j.nationality {
        lines.push(("国籍 Nationality", n.clone()));
    }
    lines.push(("出生 Birth date", j.birth_date.clone()));
    if let Some(a) = &j.address {
        lines.push(("住址 Address", a.clone()));
    }
    for a in &j.appended_addresses {
        lines.push(("新住址 Appended address", a.clone()));
    }
    let check = if j.id_number_valid { "校验通过 check OK" } else { "校验未通过 CHECK FAILED" };
    lines.push(("证件号码 ID number", format!("{} ({check})", j.id_number)));
    if let Some(p) = &j.pass_number {
        lines.push((
            "通行证号码 Travel permit",
            format!("{p} (签发次数 issue {})", j.issue_count.as_deref().unwrap_or("?")),
        ));
    }
    if let Some(i) = &j.issuer {
        lines.push(("签发机关 Issuer", i.clone()));
    }
    lines.push(("有效期限 Validity", format!("{} – {}", j.valid_from, j.valid_until)));
    let photo = if card.photo.0.is_empty() {
        "—".to_owned()
    } else {
        match NoPhotoDecoder.decode(&card.photo, sam) {
            Ok(p) => format!("{}x{} decoded", p.width, p.height),
            Err(e) => format!("WLT {} bytes, not shown: {e}", card.photo.0.len()),
        }
    };
    lines.push(("照片 Photo", photo));
    if j.fingerprint_bytes > 0 {
        lines.push(("指纹 Fingerprint", format!("{} bytes", j.fingerprint_bytes)));
    }
    // Chinese labels are two columns wide on a terminal; pad by display width, not characters.
    let width = lines.iter().map(|(l, _)| l.width()).max().unwrap_or(0);
    lines.iter().map(|(l, v)| format!("  {l}{}  {v}\n", " ".repeat(width - l.width()))).collect()
}
