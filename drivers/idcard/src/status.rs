//! SW3, the module's status byte (`reference/idcard.md` §3), with text a technician can act on.

/// Every SW3 value seen in vendor sheets; unknown values are kept, not guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Success,
    FindSuccess,
    NoContent,
    ChecksumError,
    LengthError,
    CommandError,
    Unauthorised,
    UnrecognisedError,
    CardRejectedSam,
    SamRejectedCard,
    VerificationFailed,
    NoCardSelected,
    UnknownCardType,
    ReadFailed,
    ChallengeFailed,
    WriteFailed,
    SelfTestFailed,
    LoginFailed,
    SamNotAuthorised,
    FindFailed,
    SelectFailed,
    Other(u8),
}

/// Byte value, Chinese text as in vendor sheets, English text, and what to do about it.
const TABLE: &[(Status, u8, &str, &str, &str)] = &[
    (Status::Success, 0x90, "操作成功", "success", ""),
    (Status::FindSuccess, 0x9F, "寻找证/卡成功", "card found", ""),
    (Status::NoContent, 0x91, "证/卡中此项无内容", "item absent on the card", ""),
    (
        Status::ChecksumError,
        0x10,
        "接收业务终端数据的校验和错",
        "module saw a bad checksum from the host",
        "check the cable and that no other program writes to the port",
    ),
    (
        Status::LengthError,
        0x11,
        "接收业务终端数据的长度错",
        "module saw a bad length from the host",
        "check the cable and the baud rate",
    ),
    (
        Status::CommandError,
        0x21,
        "接收业务终端的命令错误",
        "command or parameter not accepted",
        "the reader does not support this command or value",
    ),
    (
        Status::Unauthorised,
        0x23,
        "越权操作",
        "operation not permitted",
        "the reader refused the operation; check its firmware",
    ),
    (
        Status::UnrecognisedError,
        0x24,
        "无法识别的错误",
        "unrecognised error",
        "reset the reader; replace it if this repeats",
    ),
    (
        Status::CardRejectedSam,
        0x31,
        "证/卡认证SAM_V失败",
        "card failed to authenticate the SAM",
        "ask the resident to lift and re-place the card",
    ),
    (
        Status::SamRejectedCard,
        0x32,
        "SAM_V认证证/卡失败",
        "SAM failed to authenticate the card",
        "the card may be damaged or not genuine; ask the resident to re-place it",
    ),
    (
        Status::VerificationFailed,
        0x33,
        "信息验证错误",
        "information verification error",
        "ask the resident to lift and re-place the card",
    ),
    (
        Status::NoCardSelected,
        0x34,
        "尚未找卡，不能进行对卡的操作",
        "no card found yet",
        "find and select the card before reading",
    ),
    (
        Status::UnknownCardType,
        0x40,
        "无法识别的证/卡类型",
        "card type not recognised",
        "not an ID card, or a card type this SAM module is too old for",
    ),
    (
        Status::ReadFailed,
        0x41,
        "读证/卡操作失败",
        "card read failed",
        "ask the resident to lift and re-place the card",
    ),
    (
        Status::ChallengeFailed,
        0x47,
        "取随机数失败",
        "get-challenge failed",
        "ask the resident to lift and re-place the card",
    ),
    (
        Status::WriteFailed,
        0x50,
        "写卡操作失败",
        "card write failed",
        "the kiosk never writes cards; reset the reader",
    ),
    (
        Status::SelfTestFailed,
        0x60,
        "SAM_V自检失败，不能接收命令",
        "SAM self-test failed",
        "power-cycle the reader; replace it if this repeats",
    ),
    (Status::LoginFailed, 0x61, "用户登录失败", "user login failed", "reset the reader"),
    (
        Status::SamNotAuthorised,
        0x66,
        "SAM_V没有经过授权，无法使用",
        "SAM module not authorised",
        "the reader's SAM is not licensed; replace the reader",
    ),
    (Status::FindFailed, 0x80, "寻找证/卡失败", "no card found", "place the card flat on the reader"),
    (
        Status::SelectFailed,
        0x81,
        "选取证/卡失败",
        "card select failed",
        "ask the resident to lift and re-place the card",
    ),
];

impl Status {
    pub fn from_byte(b: u8) -> Self {
        TABLE.iter().find(|row| row.1 == b).map_or(Status::Other(b), |row| row.0)
    }

    pub fn byte(self) -> u8 {
        match self {
            Status::Other(b) => b,
            known => TABLE.iter().find(|row| row.0 == known).map(|row| row.1).unwrap_or_default(),
        }
    }

    fn row(self) -> Option<&'static (Status, u8, &'static str, &'static str, &'static str)> {
        TABLE.iter().find(|row| row.0 == self)
    }

    pub fn message_zh(self) -> &'static str {
        self.row().map_or("未知状态", |r| r.2)
    }

    pub fn message_en(self) -> &'static str {
        self.row().map_or("unknown status", |r| r.3)
    }

    /// What a technician or the UI should do about this status; empty for successes.
    pub fn advice(self) -> &'static str {
        self.row().map_or("reset the reader; report the code to the vendor if it repeats", |r| r.4)
    }

    /// Statuses that come from the card's position or state on the antenna, where the cure is for
    /// the resident to lift and re-place the card rather than for anyone to fix the reader.
    pub fn is_card_placement(self) -> bool {
        matches!(
            self,
            Status::CardRejectedSam
                | Status::SamRejectedCard
                | Status::VerificationFailed
                | Status::NoCardSelected
                | Status::ReadFailed
                | Status::ChallengeFailed
                | Status::FindFailed
                | Status::SelectFailed
        )
    }

    /// Every status the table knows, for simulators and tests.
    pub fn all_known() -> impl Iterator<Item = Status> {
        TABLE.iter().map(|row| row.0)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SW3 0x{:02X} {} ({})", self.byte(), self.message_zh(), self.message_en())?;
        match self.advice() {
            "" => Ok(()),
            advice => write!(f, ": {advice}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_for_every_value() {
        for b in 0..=255u8 {
            assert_eq!(Status::from_byte(b).byte(), b);
        }
        assert_eq!(Status::all_known().count(), 21);
    }

    #[test]
    fn display_carries_code_text_and_advice() {
        let s = Status::from_byte(0x41).to_string();
        assert_eq!(
            s,
            "SW3 0x41 读证/卡操作失败 (card read failed): ask the resident to lift and re-place the card"
        );
        assert!(Status::from_byte(0x7E).to_string().starts_with("SW3 0x7E 未知状态"));
    }
}
