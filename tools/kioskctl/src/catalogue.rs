//! `kioskctl catalogue …`: what admins run to check and publish the catalogue. The signing
//! options are shared with `kioskctl os` (`crate::os`): both publish into one repository.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use kiosk_update::repo::{self, InitOptions, Lifetimes, Step};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// What residents find when they type QUERY (Chinese, pinyin, initials): ranked item codes
    /// and names.
    Search {
        query: String,
        /// The catalogue: the admins' JSON or a kiosk bundle.
        #[arg(long)]
        catalogue: PathBuf,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Validate SOURCE (the project's JSON or TOML) and write the kiosk bundle of it to OUT:
    /// the catalogue an image ships until its first signed update arrives.
    Bundle {
        source: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the signing keys and the signed root of a new update repository. Move the root
    /// keys offline afterwards; publishing does not need them.
    InitRepo {
        /// Where the keys go (must be empty or absent).
        #[arg(long)]
        keys: PathBuf,
        /// The repository directory to serve over HTTPS or copy to a USB stick.
        #[arg(long)]
        repo: PathBuf,
        /// How many root keys (one per holder).
        #[arg(long, default_value_t = 2)]
        root_keys: usize,
        /// How many root keys must sign a new root.
        #[arg(long, default_value_t = 2)]
        root_threshold: u64,
        /// Days until the root expires and must be re-signed.
        #[arg(long, default_value_t = 365)]
        root_days: i64,
        /// Print the created paths as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace the targets, snapshot and timestamp keys (after a leak, or routinely): a new root
    /// version, signed with the root keys, names the new keys; the old ones go to retired/.
    /// Needs the root keys. Publish afterwards.
    RotateKeys {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        repo: PathBuf,
        /// Days until the new root expires.
        #[arg(long, default_value_t = 365)]
        root_days: i64,
    },
    /// What kiosks would see in the repository, verified as they verify it, and when each
    /// signature runs out. Exit 4 when one has expired or expires within --warn-days: kiosks
    /// refuse expired metadata, so publish (or re-publish) before then.
    Status {
        #[arg(long)]
        repo: PathBuf,
        #[arg(long, default_value_t = 2)]
        warn_days: i64,
        #[arg(long)]
        json: bool,
    },
    /// Validate SOURCE, build the kiosk bundle, sign it and write it into the repository.
    Publish {
        /// The catalogue: the project's JSON or TOML, or a provincial export of items as CSV or
        /// XLSX (then --base is needed).
        source: PathBuf,
        /// For an export: the kiosk's current catalogue (JSON or TOML), which holds what the
        /// provincial system does not (kinds, forms, synonyms, topics).
        #[arg(long)]
        base: Option<PathBuf>,
        /// For an export: the materials table as CSV (实施编码, 材料名称, …); an XLSX export
        /// carries it in its 申请材料 sheet.
        #[arg(long, requires = "base")]
        materials: Option<PathBuf>,
        /// For an export: the new catalogue version (default: today's date).
        #[arg(long, requires = "base")]
        catalogue_version: Option<String>,
        #[command(flatten)]
        signing: Signing,
    },
}

/// Where and how long a release is signed: what every publish takes.
#[derive(clap::Args, Debug)]
pub struct Signing {
    /// The keys directory from `init-repo` (only the targets, snapshot and timestamp keys are
    /// read).
    #[arg(long)]
    pub(crate) keys: PathBuf,
    /// The repository directory from `init-repo`.
    #[arg(long)]
    pub(crate) repo: PathBuf,
    /// Days the signed list of release files stays valid.
    #[arg(long, default_value_t = 90)]
    targets_days: i64,
    /// Days the snapshot stays valid.
    #[arg(long, default_value_t = 14)]
    snapshot_days: i64,
    /// Days the timestamp stays valid: the longest a mirror can hold kiosks on an old release
    /// without them noticing. Publish at least this often.
    #[arg(long, default_value_t = 7)]
    timestamp_days: i64,
    /// Print the published release as JSON (no progress display).
    #[arg(long)]
    pub(crate) json: bool,
}

impl Signing {
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            targets: repo::days(self.targets_days),
            snapshot: repo::days(self.snapshot_days),
            timestamp: repo::days(self.timestamp_days),
        }
    }
}

pub fn run(cmd: Command) -> Result<u8> {
    match cmd {
        Command::Search { query, catalogue, limit, json } => search(&query, &catalogue, limit, json),
        Command::Bundle { source, out } => {
            let (cat, report) = repo::read_source(&source)?;
            for w in &report.warnings {
                eprintln!("kioskctl: warning: {w}");
            }
            let bundle = kiosk_catalogue::to_bundle(&cat);
            std::fs::write(&out, &bundle).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "catalogue {} ({} items, {} bytes) → {}",
                cat.catalogue_version,
                cat.items.len(),
                bundle.len(),
                out.display()
            );
            Ok(0)
        }
        Command::InitRepo { keys, repo, root_keys, root_threshold, root_days, json } => {
            let opts = InitOptions { root_keys, root_threshold, root_lifetime: repo::days(root_days) };
            let done = runtime()?.block_on(repo::init_repo(&keys, &repo, &opts))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "root": done.root, "root_keys": done.root_keys, "online_keys": done.online_keys,
                    })
                );
            } else {
                println!("信任根 trust anchor (build into kiosk images): {}", done.root.display());
                for k in &done.root_keys {
                    println!("根密钥 root key (keep offline):        {}", k.display());
                }
                for k in &done.online_keys {
                    println!("发布密钥 publishing key:               {}", k.display());
                }
            }
            Ok(0)
        }
        Command::RotateKeys { keys, repo, root_days } => {
            let version =
                runtime()?.block_on(repo::rotate_online_keys(&keys, &repo, repo::days(root_days)))?;
            println!("新根 root version {version}: new publishing keys in {}; publish next", keys.display());
            Ok(0)
        }
        Command::Status { repo, warn_days, json } => {
            let st = runtime()?.block_on(repo::status(&repo))?;
            let soon = jiff::Timestamp::now() + repo::days(warn_days);
            let expiring: Vec<&str> = st.expires.iter().filter(|(_, t)| *t < soon).map(|(r, _)| *r).collect();
            if json {
                let expires: serde_json::Map<String, serde_json::Value> =
                    st.expires.iter().map(|(r, t)| ((*r).to_owned(), t.to_string().into())).collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "version": st.version, "catalogue_version": st.catalogue_version,
                        "items": st.items, "expires": expires, "expiring": expiring,
                    })
                );
            } else {
                println!(
                    "版本 version {}  目录 catalogue {} ({} items)",
                    st.version, st.catalogue_version, st.items
                );
                for (role, t) in &st.expires {
                    let flag = if *t < soon { "  ← 即将过期 expires soon" } else { "" };
                    println!("  {role:<10} expires {}{flag}", t.strftime("%Y-%m-%d %H:%M:%S UTC"));
                }
            }
            Ok(if expiring.is_empty() { 0 } else { 4 })
        }
        Command::Publish { source, base, materials, catalogue_version, signing } => {
            let source = Source { path: source, base, materials, catalogue_version };
            publish(&source, &signing)
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

struct Source {
    path: PathBuf,
    base: Option<PathBuf>,
    materials: Option<PathBuf>,
    catalogue_version: Option<String>,
}

impl Source {
    fn read(&self) -> Result<(kiosk_catalogue::Catalogue, kiosk_catalogue::Report)> {
        let csv = self.path.extension().is_some_and(|e| e == "csv" || e == "xlsx");
        Ok(match (&self.base, csv) {
            (Some(base), true) => {
                let version = self
                    .catalogue_version
                    .clone()
                    .unwrap_or_else(|| jiff::Zoned::now().strftime("%Y.%m.%d").to_string());
                repo::read_export(&self.path, self.materials.as_deref(), base, &version)?
            }
            (None, true) => anyhow::bail!("an export needs --base, the kiosk's current catalogue"),
            (Some(_), false) => anyhow::bail!("--base goes with a CSV or XLSX export only"),
            (None, false) => repo::read_source(&self.path)?,
        })
    }
}

fn publish(source: &Source, signing: &Signing) -> Result<u8> {
    let (keys, repo_dir, json) = (&signing.keys, &signing.repo, signing.json);
    let bar = indicatif::ProgressBar::new(4);
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(indicatif::ProgressStyle::with_template("[{pos}/{len}] {msg}").expect("a valid template"));
    bar.set_message("校验 validating");
    let (cat, report) = source.read()?;
    for w in &report.warnings {
        bar.suspend(|| eprintln!("kioskctl: warning: {w}"));
    }
    bar.inc(1);
    let published =
        runtime()?.block_on(repo::publish(&cat, keys, repo_dir, signing.lifetimes(), |step| {
            bar.set_message(match step {
                Step::Building => "生成 building the bundle",
                Step::Signing => "签名 signing",
                Step::Writing => "写入 writing the repository",
            });
            bar.inc(1);
        }))?;
    bar.finish_and_clear();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "version": published.version,
                "catalogue_version": published.catalogue_version,
                "items": published.items,
                "bundle_bytes": published.bundle_len,
                "warnings": report.warnings.len(),
            })
        );
    } else {
        println!(
            "已发布 published: repository version {}, catalogue {} ({} items, {} bytes) → {}",
            published.version,
            published.catalogue_version,
            published.items,
            published.bundle_len,
            repo_dir.display()
        );
    }
    Ok(0)
}

fn search(query: &str, catalogue: &Path, limit: usize, json: bool) -> Result<u8> {
    let bytes = std::fs::read(catalogue).with_context(|| format!("reading {}", catalogue.display()))?;
    let what = || format!("catalogue {}", catalogue.display());
    let index = if bytes.first() == Some(&b'{') {
        let (cat, report) = kiosk_catalogue::load(&bytes).with_context(what)?;
        for w in &report.warnings {
            eprintln!("kioskctl: warning: {w}");
        }
        kiosk_catalogue::Index::build(&cat)
    } else {
        // A kiosk bundle, searched as the kiosk does: from its summaries.
        kiosk_catalogue::Index::new(
            kiosk_catalogue::Bundle::open(&bytes).with_context(what)?.take_summaries(),
        )
    };
    let hits = index.search(query, limit);
    if json {
        let rows: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| {
                let it = index.summary(h.item);
                serde_json::json!({"task_code": it.task_code, "catalog_code": it.catalog_code, "name": it.task_name, "score": h.score})
            })
            .collect();
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for h in &hits {
            let it = index.summary(h.item);
            println!("{:>5}  {}  {}", h.score, it.catalog_code, it.task_name);
        }
    }
    Ok(if hits.is_empty() { 3 } else { 0 })
}
