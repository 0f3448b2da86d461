//! Request paths that servers may resolve somewhere other than they read.
//!
//! A path prefix is compared with the path exactly as sent, so it only means
//! something if every server reads that path the same way. Servers disagree
//! on dot segments (`/v1/../admin`), on what they decode and how often
//! (`%2e`, `%252e`, overlong UTF-8 `%c0%ae`), on separators (`\`, `%2f`,
//! `%5c`), on `;` path parameters (Tomcat, Spring and Jetty drop them before
//! resolving `..;`), and on Unicode look-alikes (`％`, `．`, `／`, Windows
//! best-fit `¥`). A path with any of these never matches a path prefix.

use std::fmt;

/// Why a path cannot be matched against a path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ambiguity {
    /// A raw character outside RFC 3986's path characters.
    Character(char),
    /// `\`, which some servers read as `/`.
    Backslash,
    /// `;`, which starts a path parameter some servers strip (`..;` is `..`).
    PathParameter,
    /// `%` not followed by two hex digits (IIS reads `%u002e` as `.`).
    BadEscape,
    /// `%2F`, `%5C` or `%3B`, which servers that decode first read as `/`, `\`, `;`.
    EncodedSeparator,
    /// `%25`: a server that decodes twice turns `%252e` into `.`.
    EncodedPercent,
    /// `%00`-`%1F` or `%7F`: truncation and stripping differ between servers.
    EncodedControl,
    /// Encoded bytes that are not valid UTF-8, such as overlong `%C0%AE` (`.`).
    InvalidUtf8,
    /// An encoded character that normalisation (NFKC, Windows best-fit) turns
    /// into `.`, `/`, `\`, `;`, `%` or a space, or that servers drop.
    LookAlike(char),
    /// A segment of dots (and spaces), also encoded: `.`, `..`, `%2e%2e`, `.. `.
    DotSegment,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ambiguity::Character(c) => write!(f, "{c:?}, which is not a URL path character"),
            Ambiguity::Backslash => f.write_str("a backslash, which some servers read as /"),
            Ambiguity::PathParameter => {
                f.write_str("a ; path parameter, which some servers strip (..;/ is ../)")
            }
            Ambiguity::BadEscape => f.write_str("a % not followed by two hex digits"),
            Ambiguity::EncodedSeparator => {
                f.write_str("an encoded slash, backslash or semicolon (%2F, %5C, %3B)")
            }
            Ambiguity::EncodedPercent => {
                f.write_str("an encoded % (%25), which servers that decode twice read as an escape")
            }
            Ambiguity::EncodedControl => f.write_str("an encoded control character"),
            Ambiguity::InvalidUtf8 => {
                f.write_str("encoded bytes that are not valid UTF-8 (such as overlong %C0%AE)")
            }
            Ambiguity::LookAlike(c) => write!(
                f,
                "an encoded U+{:04X}, which servers may normalise to . / \\ ; % or a space, or drop",
                u32::from(*c)
            ),
            Ambiguity::DotSegment => {
                f.write_str("a . or .. segment (also percent-encoded or padded with spaces)")
            }
        }
    }
}

/// True when `path` never matches a path prefix; see [`ambiguity`].
pub(crate) fn is_ambiguous_path(path: &str) -> bool {
    ambiguity(path).is_some()
}

/// The first reason `path` (without the query) may be resolved differently
/// by different servers, or `None` when every server reads it as written.
pub(crate) fn ambiguity(path: &str) -> Option<Ambiguity> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match byte {
                    None => return Some(Ambiguity::BadEscape),
                    Some(b'%') => return Some(Ambiguity::EncodedPercent),
                    Some(b'/' | b'\\' | b';') => return Some(Ambiguity::EncodedSeparator),
                    Some(b) if b.is_ascii_control() => return Some(Ambiguity::EncodedControl),
                    Some(b) => decoded.push(b),
                }
                i += 3;
            }
            b'\\' => return Some(Ambiguity::Backslash),
            b';' => return Some(Ambiguity::PathParameter),
            b if is_path_char(b) => {
                decoded.push(b);
                i += 1;
            }
            _ => {
                let c = path[i..].chars().next().unwrap_or('\u{fffd}');
                return Some(Ambiguity::Character(c));
            }
        }
    }
    // Rust's decoder rejects overlong forms, surrogates and truncated sequences.
    let Ok(text) = String::from_utf8(decoded) else {
        return Some(Ambiguity::InvalidUtf8);
    };
    if let Some(c) = text.chars().find(|&c| is_look_alike(c)) {
        return Some(Ambiguity::LookAlike(c));
    }
    text.split('/')
        .any(is_dot_segment)
        .then_some(Ambiguity::DotSegment)
}

/// RFC 3986 `pchar` without `;` and `%` (handled above), plus `/`.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b)
}

/// Dots with optional spaces: Windows drops trailing dots and spaces from a
/// segment, and `+` is a space to servers that decode paths like forms.
fn is_dot_segment(segment: &str) -> bool {
    segment.contains('.') && segment.chars().all(|c| matches!(c, '.' | ' ' | '+'))
}

fn is_look_alike(c: char) -> bool {
    LOOK_ALIKES
        .binary_search_by(|&(start, end)| {
            if end < c {
                std::cmp::Ordering::Less
            } else if start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Non-ASCII characters a server may turn into `.`, `/`, `\`, `;`, `%` or a
/// space, or drop, before it resolves the path. Generated from Unicode 14
/// (Python's `unicodedata`): every character whose NFKC form contains one of
/// `./\;%`, every control (Cc), format (Cf) and separator (Zs, Zl, Zp)
/// character; plus Windows best-fit mappings (`¥` and `₩` to `\` in the
/// Japanese and Korean code pages, `∕`, `⁄`, `∖`, `⧵`, `⧸`, `⧹`), ideographic
/// full stops (`。`, `｡`), Hangul fillers and variation selectors, which
/// NFKC_Casefold drops. Sorted, non-overlapping ranges.
const LOOK_ALIKES: &[(char, char)] = &[
    ('\u{80}', '\u{a0}'),
    ('\u{a5}', '\u{a5}'),
    ('\u{ad}', '\u{ad}'),
    ('\u{34f}', '\u{34f}'),
    ('\u{37e}', '\u{37e}'),
    ('\u{600}', '\u{605}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{6dd}', '\u{6dd}'),
    ('\u{70f}', '\u{70f}'),
    ('\u{890}', '\u{891}'),
    ('\u{8e2}', '\u{8e2}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{2000}', '\u{200f}'),
    ('\u{2024}', '\u{2026}'),
    ('\u{2028}', '\u{202f}'),
    ('\u{2044}', '\u{2044}'),
    ('\u{205f}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{20a9}', '\u{20a9}'),
    ('\u{2100}', '\u{2101}'),
    ('\u{2105}', '\u{2106}'),
    ('\u{2215}', '\u{2216}'),
    ('\u{2488}', '\u{249b}'),
    ('\u{29f5}', '\u{29f5}'),
    ('\u{29f8}', '\u{29f9}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{3002}', '\u{3002}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{33c2}', '\u{33c2}'),
    ('\u{33c7}', '\u{33c7}'),
    ('\u{33d8}', '\u{33d8}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{fe14}', '\u{fe14}'),
    ('\u{fe19}', '\u{fe19}'),
    ('\u{fe30}', '\u{fe30}'),
    ('\u{fe52}', '\u{fe52}'),
    ('\u{fe54}', '\u{fe54}'),
    ('\u{fe68}', '\u{fe68}'),
    ('\u{fe6a}', '\u{fe6a}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ff05}', '\u{ff05}'),
    ('\u{ff0e}', '\u{ff0f}'),
    ('\u{ff1b}', '\u{ff1b}'),
    ('\u{ff3c}', '\u{ff3c}'),
    ('\u{ff61}', '\u{ff61}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{13438}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{1f100}', '\u{1f100}'),
    ('\u{e0001}', '\u{e0001}'),
    ('\u{e0020}', '\u{e007f}'),
    ('\u{e0100}', '\u{e01ef}'),
];

#[cfg(test)]
#[path = "path_normalization_tests.rs"]
mod tests;
