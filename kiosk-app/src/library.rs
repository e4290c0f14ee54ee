//! The catalogue as a session browses it: topics, departments, search, and items opened on demand.
//! A new release is swapped in whole between sessions (see [`crate::Session::offer_library`]), so a
//! resident never sees the list change under their finger.

use kiosk_catalogue::model::{Department, Topic};
use kiosk_catalogue::{Bundle, Index, Item, Kind, LoadError, Summary};

#[derive(Debug)]
pub struct Library {
    bundle: Bundle,
    index: Index,
}

impl Library {
    pub fn new(mut bundle: Bundle) -> Self {
        let index = Index::new(bundle.take_summaries());
        Self { bundle, index }
    }

    pub fn version(&self) -> &str {
        &self.bundle.meta.catalogue_version
    }

    /// True for the invented sample catalogue, which the screens mark as such.
    pub fn is_sample(&self) -> bool {
        self.bundle.meta.sample
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn summary(&self, i: usize) -> &Summary {
        self.index.summary(i)
    }

    pub fn item(&self, i: usize) -> Result<Item, LoadError> {
        self.bundle.item(i)
    }

    /// Life-event topics that have at least one item a kiosk can serve.
    pub fn topics(&self) -> Vec<&Topic> {
        self.bundle.meta.user_topics.iter().filter(|t| !self.by_topic(&t.code).is_empty()).collect()
    }

    pub fn departments(&self) -> Vec<&Department> {
        self.bundle.meta.departments.iter().filter(|d| !self.by_department(&d.code).is_empty()).collect()
    }

    pub fn topic_name(&self, code: &str) -> Option<&str> {
        self.bundle.meta.user_topics.iter().find(|t| t.code == code).map(|t| t.name.as_str())
    }

    pub fn department_name(&self, code: &str) -> Option<&str> {
        self.bundle.meta.departments.iter().find(|d| d.code == code).map(|d| d.name.as_str())
    }

    /// Items of a topic, those a resident can finish here first.
    pub fn by_topic(&self, code: &str) -> Vec<usize> {
        self.select(|s| s.user_topic_type.iter().any(|t| t == code))
    }

    pub fn by_department(&self, code: &str) -> Vec<usize> {
        self.select(|s| s.dept_code == code)
    }

    /// Ranked as `kioskctl catalogue search` prints them.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        self.index.search(query, limit).into_iter().map(|h| h.item).collect()
    }

    fn select(&self, keep: impl Fn(&Summary) -> bool) -> Vec<usize> {
        let mut hits: Vec<usize> = (0..self.index.len()).filter(|&i| keep(self.index.summary(i))).collect();
        hits.sort_by_key(|&i| kind_rank(self.index.summary(i).kind));
        hits
    }
}

fn kind_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Online | Kind::Query(_) => 0,
        Kind::PreApplication => 1,
        Kind::Job => 2,
        Kind::Info => 3,
    }
}
