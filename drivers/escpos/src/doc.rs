//! What a slip says, independent of any printer: the application builds one of these (with
//! personal data already masked), and the encoder and the preview turn it into dots.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub bold: bool,
    /// Double width and height.
    pub double: bool,
    pub align: Align,
}

/// QR error correction; M (15 %) survives a crumpled slip without growing the symbol much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Text {
        text: String,
        style: Style,
    },
    /// `key：value`, the value wrapped under itself.
    KeyValue {
        key: String,
        value: String,
    },
    /// Columns with relative widths; the first row is printed bold as a header.
    Table {
        widths: Vec<u16>,
        rows: Vec<Vec<String>>,
    },
    Separator,
    Qr {
        data: String,
        level: QrLevel,
    },
    /// CODE128 with its human-readable text below.
    Barcode {
        data: String,
    },
    Feed(u8),
    Cut,
}

/// A slip, built block by block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Slip {
    pub blocks: Vec<Block>,
}

impl Slip {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn title(self, text: &str) -> Self {
        self.text_styled(text, Style { bold: true, double: true, align: Align::Center })
    }

    pub fn text(self, text: &str) -> Self {
        self.text_styled(text, Style::default())
    }

    pub fn text_styled(mut self, text: &str, style: Style) -> Self {
        self.blocks.push(Block::Text { text: text.to_owned(), style });
        self
    }

    pub fn kv(mut self, key: &str, value: &str) -> Self {
        self.blocks.push(Block::KeyValue { key: key.to_owned(), value: value.to_owned() });
        self
    }

    pub fn table(mut self, widths: &[u16], rows: &[&[&str]]) -> Self {
        let rows = rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect();
        self.blocks.push(Block::Table { widths: widths.to_vec(), rows });
        self
    }

    pub fn separator(mut self) -> Self {
        self.blocks.push(Block::Separator);
        self
    }

    pub fn qr(mut self, data: &str) -> Self {
        self.blocks.push(Block::Qr { data: data.to_owned(), level: QrLevel::M });
        self
    }

    pub fn barcode(mut self, data: &str) -> Self {
        self.blocks.push(Block::Barcode { data: data.to_owned() });
        self
    }

    pub fn feed(mut self, lines: u8) -> Self {
        self.blocks.push(Block::Feed(lines));
        self
    }

    pub fn cut(mut self) -> Self {
        self.blocks.push(Block::Cut);
        self
    }
}
