//! A resident's rating of a finished business (好差评, `POST /v1/evaluations`), which the national
//! rules require on every service channel. Queued in the outbox and sent exactly once like an
//! application, so it works offline. The comment is free text and may name the resident: it is
//! wiped on drop and never logged.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The five national levels, best first: 非常满意, 满意, 基本满意, 不满意, 非常不满意.
pub const LEVELS: std::ops::RangeInclusive<u8> = 1..=5;

/// Levels at or above this are dissatisfied: the resident may tick reasons.
pub const DISSATISFIED_FROM: u8 = 4;

/// Why a dissatisfied resident was: the reasons they can tick.
pub const REASONS: &[&str] =
    &["guide_inaccurate", "too_many_steps", "too_slow", "device_fault", "unclear_result", "other"];

/// The rating. `level` 1 is 非常满意, 5 非常不满意.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Evaluation {
    /// The item the business was for (实施编码).
    pub item_code: String,
    pub kiosk_id: String,
    pub level: u8,
    /// Codes of [`REASONS`], only when dissatisfied.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    /// The case or submission number of the business rated.
    #[serde(default)]
    pub reference: String,
    /// China Standard Time, as the slips print it.
    #[serde(default)]
    pub submitted_at: String,
}

impl Evaluation {
    /// Whether the gateway takes it: a level in range, known reasons, and reasons only with a
    /// dissatisfied level.
    pub fn is_valid(&self) -> bool {
        LEVELS.contains(&self.level)
            && !self.item_code.is_empty()
            && self.reasons.iter().all(|r| REASONS.contains(&r.as_str()))
            && (self.level >= DISSATISFIED_FROM || self.reasons.is_empty())
            && self.comment.chars().count() <= 200
    }
}

impl std::fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluation")
            .field("item_code", &self.item_code)
            .field("level", &self.level)
            .field("reasons", &self.reasons)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sensible_ratings_are_valid_and_debug_hides_the_comment() {
        let mut e = Evaluation::default();
        e.item_code = "X".into();
        e.level = 1;
        assert!(e.is_valid());
        e.reasons.push("too_slow".into());
        assert!(!e.is_valid(), "reasons need a dissatisfied level");
        e.level = 5;
        assert!(e.is_valid());
        e.reasons.push("bribes".into());
        assert!(!e.is_valid(), "unknown reason");
        e.reasons.pop();
        e.level = 6;
        assert!(!e.is_valid());
        e.level = 4;
        e.comment = "陈小明 13800138000".into();
        assert!(!format!("{e:?}").contains("1380"));
    }
}
