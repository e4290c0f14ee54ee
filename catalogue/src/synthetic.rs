//! Large invented catalogues for benchmarks: the sample's items repeated with varied names,
//! codes and synonyms, so search and indexing see realistic text at 10,000+ items.

use crate::model::Catalogue;

/// Name parts mixed into synthetic names so they differ in text and in pinyin.
const PLACES: [&str; 12] =
    ["桂城", "大沥", "里水", "狮山", "西樵", "丹灶", "九江", "罗村", "黄岐", "松岗", "官窑", "小塘"];
const VARIANTS: [&str; 8] = ["申请", "变更", "补办", "注销", "查询", "打印", "预约", "续期"];

/// A catalogue of `n` items built from the sample.
pub fn catalogue(n: usize) -> Catalogue {
    let mut cat = crate::sample();
    let base = std::mem::take(&mut cat.items);
    cat.catalogue_version = format!("synthetic-{n}");
    cat.items = (0..n)
        .map(|i| {
            let mut it = base[i % base.len()].clone();
            let round = i / base.len();
            it.task_name = format!(
                "{}{}（{}）",
                it.task_name,
                VARIANTS[round % VARIANTS.len()],
                PLACES[(round / VARIANTS.len()) % PLACES.len()]
            );
            it.catalog_code = format!("ZZ{:010}", 10_000_000 + i);
            it.task_code = format!("{}4{}", it.dept_code, it.catalog_code);
            it.synonyms.push(format!("{}{}", PLACES[i % PLACES.len()], VARIANTS[i % VARIANTS.len()]));
            it
        })
        .collect();
    cat
}
