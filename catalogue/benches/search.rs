//! Catalogue load, index and search at 10,000 items, against DESIGN.md §5: load and index
//! ≤ 50 ms; a query per keystroke p99 ≤ 2 ms. Queries are typed a keystroke at a time, as on
//! the kiosk's keyboard. Figures only. Run: `cargo bench -p kiosk-catalogue --bench search`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kiosk_benchkit::{Samples, ms, running_as_bench};
use kiosk_catalogue::{Bundle, Catalogue, Index, synthetic};

const ITEMS: usize = 10_000;
const QUERIES: [&str; 8] =
    ["sbcx", "shebaochaxun", "gjj", "公积金提取", "shiyebaoxianjin", "jhdj", "yingyezhizhao", "社保"];

fn main() {
    if !running_as_bench("search") {
        return;
    }
    let cat = synthetic::catalogue(ITEMS);
    let json = serde_json::to_vec(&cat).unwrap();
    let bundle = kiosk_catalogue::to_bundle(&cat);
    println!(
        "Catalogue of {ITEMS} items: {:.1} MB as the admins' JSON, {:.1} MB as the kiosk's bundle",
        json.len() as f64 / 1e6,
        bundle.len() as f64 / 1e6
    );
    let parse_json = Samples::measure(1, 10, || {
        black_box(serde_json::from_slice::<Catalogue>(&json).unwrap());
    });
    let open = Samples::measure(2, 20, || {
        black_box(Bundle::open(&bundle).unwrap());
    });
    let total = Samples::measure(2, 20, || {
        let mut b = Bundle::open(&bundle).unwrap();
        black_box(Index::new(b.take_summaries()));
        black_box(b);
    });
    let opened = Bundle::open(&bundle).unwrap();
    let item = Samples::measure(10, 1000, || {
        black_box(opened.item(ITEMS / 2).unwrap());
    });
    println!("  parse JSON (admin side, not on the kiosk)  {}", parse_json.summary());
    println!("  open the bundle (head: summaries)          {}", open.summary());
    println!("  open the bundle + build the index          {}", total.summary());
    println!("  {}", total.verdict(Duration::from_millis(50)));
    println!("  open one item's details when a resident taps it: {}", item.summary());

    let idx = Index::build(&cat);
    let mut timings = Vec::new();
    let mut slowest: Vec<(Duration, &str)> = Vec::new();
    for q in QUERIES {
        // Every prefix of the query, as each keystroke sends it.
        for end in q.char_indices().map(|(i, c)| i + c.len_utf8()) {
            let mut worst = Duration::ZERO;
            for _ in 0..5 {
                let t = Instant::now();
                black_box(idx.search(&q[..end], 20));
                worst = worst.max(t.elapsed());
                timings.push(t.elapsed());
            }
            slowest.push((worst, &q[..end]));
        }
    }
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let per_key = Samples::from(timings);
    println!(
        "Search per keystroke over {ITEMS} items ({} searches: Chinese, full pinyin, initials, mixed)",
        per_key.len()
    );
    println!("  {}", per_key.summary());
    println!("  {}", per_key.verdict(Duration::from_millis(2)));
    let worst: Vec<String> = slowest.iter().take(5).map(|(d, q)| format!("{q:?} {}", ms(*d))).collect();
    println!("  slowest keystrokes: {}", worst.join(", "));
    println!("  e.g. `sbcx`: {} hits in {}", idx.search("sbcx", usize::MAX).len(), {
        let t = Instant::now();
        idx.search("sbcx", 20);
        ms(t.elapsed())
    });
}
