//! What a printer model can do. Printers that all "speak ESC/POS" differ in paper width, Chinese
//! font coverage, QR support and which cut commands work (`reference/escpos.md` §1, §4, §7), so
//! every decision the encoder makes comes from here.

use serde::Serialize;

/// Which Chinese characters the printer's resident font holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FontCoverage {
    /// GB 2312 only (older 58 mm units): no 喆, 堃 or 镕.
    Gb2312,
    /// GBK two-byte characters; four-byte GB18030 sequences would print as stray digits.
    Gbk,
    /// GB 18030 including four-byte sequences.
    Gb18030,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CutCommand {
    /// GS V 66 0: feed to the cutter and cut; listed in every manual.
    FeedAndCut,
    /// GS V 1: partial cut where form B is not understood.
    Partial,
    /// No cutter: tear-off bar.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: &'static str,
    /// Printable dots per line at 203 dpi.
    pub dots: u16,
    pub font: FontCoverage,
    /// GS ( k native QR; without it QR codes are sent as raster images.
    pub native_qr: bool,
    /// Module sizes the firmware accepts (Epson 1–16; many Chinese models 1–8).
    pub qr_module_max: u8,
    pub cut: CutCommand,
}

impl Profile {
    /// Characters per line in the standard 12×24 font.
    pub fn columns(&self) -> usize {
        usize::from(self.dots / 12)
    }
}

/// 80 mm printers whose Chinese firmware carries a GB 18030 font (such as the TM-T70II-CH).
pub const GB18030_80: Profile = Profile {
    name: "gb18030-80mm",
    dots: 576,
    font: FontCoverage::Gb18030,
    native_qr: true,
    qr_module_max: 16,
    cut: CutCommand::FeedAndCut,
};

/// The common Chinese 80 mm kiosk printer: GBK font, QR module size 1–8.
pub const GBK_80: Profile = Profile {
    name: "gbk-80mm",
    dots: 576,
    font: FontCoverage::Gbk,
    native_qr: true,
    qr_module_max: 8,
    cut: CutCommand::FeedAndCut,
};

/// Older 58 mm units: GB 2312 font, no native QR, partial cut only.
pub const GB2312_58: Profile = Profile {
    name: "gb2312-58mm",
    dots: 384,
    font: FontCoverage::Gb2312,
    native_qr: false,
    qr_module_max: 8,
    cut: CutCommand::Partial,
};

pub const ALL: [&Profile; 3] = [&GB18030_80, &GBK_80, &GB2312_58];

pub fn by_name(name: &str) -> Option<&'static Profile> {
    ALL.into_iter().find(|p| p.name == name)
}

/// Picks a profile from a USB printer's IEEE 1284 device ID
/// (`MFG:EPSON;MDL:TM-T70II-CH;CMD:ESC/POS;...`). Unknown ESC/POS printers get the GBK 80 mm
/// profile, the safest common ground; `None` for a device that does not speak ESC/POS.
pub fn from_device_id(id: &str) -> Option<&'static Profile> {
    let field = |key: &str| {
        id.split(';')
            .filter_map(|kv| kv.split_once(':'))
            .find(|(k, _)| {
                let k = k.trim();
                k.eq_ignore_ascii_case(key)
                    || (key == "MFG" && k.eq_ignore_ascii_case("MANUFACTURER"))
                    || (key == "MDL" && k.eq_ignore_ascii_case("MODEL"))
                    || (key == "CMD" && k.eq_ignore_ascii_case("COMMAND SET"))
            })
            .map(|(_, v)| v.trim().to_ascii_uppercase())
    };
    let (model, commands) = (field("MDL").unwrap_or_default(), field("CMD").unwrap_or_default());
    if !commands.contains("ESC") && !commands.is_empty() {
        return None;
    }
    Some(if model.contains("-CH") || model.contains("GB18030") {
        &GB18030_80
    } else if model.contains("58") {
        &GB2312_58
    } else {
        &GBK_80
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_choose_profiles() {
        assert_eq!(from_device_id("MFG:EPSON;CMD:ESC/POS;MDL:TM-T70II-CH;CLS:PRINTER;"), Some(&GB18030_80));
        assert_eq!(
            from_device_id("MANUFACTURER:Zjiang;MODEL:ZJ-5870;COMMAND SET:ESC/POS;"),
            Some(&GB2312_58)
        );
        assert_eq!(from_device_id("MFG:Rig;MDL:TM-Rig80;CMD:ESC/POS;CLS:PRINTER;"), Some(&GBK_80));
        assert_eq!(from_device_id("MFG:HP;MDL:LaserJet;CMD:PCL,PJL;"), None);
        assert_eq!(GBK_80.columns(), 48);
        assert_eq!(GB2312_58.columns(), 32);
        assert_eq!(by_name("gb2312-58mm"), Some(&GB2312_58));
    }
}
