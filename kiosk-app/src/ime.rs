//! Chinese input for the on-screen keyboard: the resident types a syllable in pinyin and picks
//! the character from a candidate bar. Slint has no Chinese input method (slint-ui/slint#6680),
//! so the reverse reading table is built here from the `pinyin` crate's data.
//!
//! Candidates are ordered common characters first, by GB2312 level (level 1 holds the 3,755
//! most used characters); every heteronym reading of a character counts, so 重 is offered for
//! both "zhong" and "chong".

use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::ToPinyinMulti;

/// Syllable (plain, no tones) → characters, common first.
fn table() -> &'static HashMap<&'static str, Vec<char>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let common: HashMap<char, usize> = COMMON.chars().enumerate().map(|(i, c)| (c, i)).collect();
        let mut table: HashMap<&'static str, Vec<(Rank, char)>> = HashMap::new();
        let ranges = ['\u{4E00}'..='\u{9FFF}', '\u{3400}'..='\u{4DBF}'];
        for c in ranges.into_iter().flatten() {
            let Some(readings) = c.to_pinyin_multi() else { continue };
            let rank = candidate_rank(c, &common);
            for reading in readings {
                let entry = table.entry(reading.plain()).or_default();
                if !entry.iter().any(|&(_, have)| have == c) {
                    entry.push((rank, c));
                }
            }
        }
        table
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_unstable();
                (k, v.into_iter().map(|(_, c)| c).collect())
            })
            .collect()
    })
}

/// Common surnames first (names are what residents type most here), then the most used
/// characters of modern Chinese in order of frequency.
const COMMON: &str = "张王李刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得着下自之年过发后作里用道行所然家种事成多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日者意无力与长把机十民第公此已工使情明性知全三又关点正业外将两间由问很最重并物手应头文体相见被利什二等产或新己制身果加西月话合回特代内信表化老给世位次度门常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活更别打女变四神总电数安少报才结反受目太量再感建务做接必场件计管期市直资命山指统区保至队形社便空决治展科司五基眼书非则听却界达光放强即像难且权思象完设式色路记南品住告类求据北边死该交规取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极服快办议往元士证近失转夫令准布始怎呢存未远叫台单影具字爱击流备兵连调深商算质团集百需价花华城级整府离况请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片委乎查轻易早除农找装广显吧阿标谈吃图念六引历首医局突专费号尽另较注语仅考落青随选列红响虽推势参希古众构房半节土投某案黑维划致律足态护七兴派孩验责营星够章音跟志底站例防族供效续施留讲型料终答紧绝奇察母京依批群项故按河米围织害斗双境客纪采举父密低朝友诉止细愿千值仍男破网热助倒育属坐限船脸职速刻乐否刚威状率甚独球般普怕校苦创假久错承印晚试股拿脑预谁益阳若哪微继送急血惊伤素药适波夜省初喜卫源食险待述习置居劳财环排福纳欢警获模充负云停木游树疑层冷洲冲射略竟句室异激汉村策演简卡罪判担州静退既衣您宗积痛检差富灵协角占配征修皮挥胜降阶审坚善妈读超免压银买养怀执副乱帮宣佛岁航优怪香著铁控税左右份穿艺背阵草脚概块顿敢守酒岛托央户烈洋哥索款靠评版宝座释景弟登货互伯慢换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘遇康虑幸均销诗藏赶剧票损忽巨旧端探湖录春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督油疗旅泽材灭逐笔亡鲜词圣择寻厂睡博烟授诺伦岸堂旁宫喝借君禁阴园谋避抓荣姑逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻森塔默握戏隐熟骨访弱蒙歌店鬼软典欲伙遭盘爸扩盖弄雄稳忘亿刺拥徒齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵抱鼓植纯忍页杰筑折贝尊秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍";

/// Tier (0 common, then GB2312 levels), then position within the tier.
type Rank = (u8, usize);

/// Sort key: position in [`COMMON`], else by GB2312 level.
fn candidate_rank(c: char, common: &HashMap<char, usize>) -> Rank {
    match common.get(&c) {
        Some(&p) => (0, p),
        None => (1 + frequency_rank(c), c as usize),
    }
}

/// 0 for GB2312 level 1, 1 for level 2, 2 for the rest.
fn frequency_rank(c: char) -> u8 {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(c.encode_utf8(&mut buf));
    match (&*bytes, unmappable) {
        (&[lead, _], false) if (0xB0..=0xD7).contains(&lead) => 0,
        (&[lead, _], false) if (0xD8..=0xF7).contains(&lead) => 1,
        _ => 2,
    }
}

/// The pinyin being typed and the candidates it offers.
#[derive(Debug, Default, Clone)]
pub struct Composer {
    letters: String,
    page: usize,
}

impl Composer {
    pub const PAGE: usize = 8;

    pub fn letters(&self) -> &str {
        &self.letters
    }

    pub fn is_composing(&self) -> bool {
        !self.letters.is_empty()
    }

    /// Takes a letter; anything else is not pinyin and is refused (the caller types it).
    pub fn push(&mut self, c: char) -> bool {
        if c.is_ascii_alphabetic() && self.letters.len() < 6 {
            self.letters.push(c.to_ascii_lowercase());
            self.page = 0;
            true
        } else {
            false
        }
    }

    pub fn backspace(&mut self) -> bool {
        self.page = 0;
        self.letters.pop().is_some()
    }

    pub fn clear(&mut self) {
        self.letters.clear();
        self.page = 0;
    }

    /// All candidates: characters read exactly so, or, while the syllable is incomplete, those
    /// whose reading starts with it ("zh" offers 中 张 ...).
    fn all(&self) -> Vec<char> {
        if self.letters.is_empty() {
            return Vec::new();
        }
        if let Some(exact) = table().get(self.letters.as_str()) {
            return exact.clone();
        }
        let mut keys: Vec<&&str> = table().keys().filter(|k| k.starts_with(&self.letters)).collect();
        keys.sort();
        let mut out: Vec<char> = Vec::new();
        for level in 0..3 {
            for k in &keys {
                for &c in &table()[**k] {
                    if frequency_rank(c) == level && !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// The page of candidates the bar shows.
    pub fn candidates(&self) -> Vec<char> {
        self.all().into_iter().skip(self.page * Self::PAGE).take(Self::PAGE).collect()
    }

    pub fn has_more(&self) -> bool {
        self.all().len() > (self.page + 1) * Self::PAGE
    }

    pub fn next_page(&mut self) {
        if self.has_more() {
            self.page += 1;
        }
    }

    pub fn previous_page(&mut self) {
        self.page = self.page.saturating_sub(1);
    }

    /// Picks candidate `i` of the page shown; the composition ends.
    pub fn pick(&mut self, i: usize) -> Option<char> {
        let c = self.candidates().get(i).copied()?;
        self.clear();
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose(letters: &str) -> Composer {
        let mut c = Composer::default();
        for l in letters.chars() {
            assert!(c.push(l));
        }
        c
    }

    #[test]
    fn common_characters_come_first() {
        let c = compose("zhang");
        let page = c.candidates();
        assert_eq!(page[0], '张', "the commonest surname first: {page:?}");
        assert_eq!(compose("de").candidates()[0], '的');
        assert_eq!(page.len(), Composer::PAGE);
        assert!(page.iter().all(|&c| frequency_rank(c) == 0), "the first page holds level-1 characters");
    }

    fn every_page(letters: &str) -> Vec<char> {
        let mut c = compose(letters);
        let mut seen = c.candidates();
        while c.has_more() {
            c.next_page();
            seen.extend(c.candidates());
        }
        seen
    }

    #[test]
    fn heteronyms_are_offered_under_every_reading() {
        assert!(every_page("chong").contains(&'重'));
        assert!(every_page("zhong").contains(&'重'));
        assert!(every_page("hang").contains(&'行') && every_page("xing").contains(&'行'));
    }

    #[test]
    fn picking_ends_the_composition_and_incomplete_syllables_still_offer() {
        let mut c = compose("zh");
        assert!(!c.candidates().is_empty());
        let mut c2 = compose("zhe");
        let picked = c2.pick(0).unwrap();
        assert!(!c2.is_composing());
        assert!(crate::ime::table()["zhe"].contains(&picked));
        assert!(c.backspace() && c.backspace() && !c.backspace());
        assert!(!compose("x").push('1'), "digits are not pinyin");
    }

    #[test]
    fn rare_name_characters_can_be_typed() {
        // 喆 and 堃 are outside GB2312 yet common in names.
        assert!(every_page("zhe").contains(&'喆'));
        assert!(every_page("kun").contains(&'堃'));
    }
}
