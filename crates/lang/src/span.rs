//! Byte ranges into a cell, and values tagged with the range they came from.
//!
//! Spans are byte offsets; lines, columns and code points are derived only when rendering.

/// A byte range `start..end` into the cell text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end: end.max(start) }
    }

    /// An empty span at `offset`, for "expected something here".
    pub fn at(offset: usize) -> Self {
        Span { start: offset, end: offset }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Number of bytes covered.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `offset` lies inside the span or right at its end (where a cursor typing it would be).
    pub fn touches(self, offset: usize) -> bool {
        self.start <= offset && offset <= self.end
    }
}

/// A value with the span of the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it came from.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Tags `node` with `span`.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// The 1-based line and column (in characters) of a byte offset, and the byte range of its line.
pub fn line_col(text: &str, offset: usize) -> (usize, usize, std::ops::Range<usize>) {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..offset].chars().count() + 1;
    (line, column, line_start..line_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let text = "help\nprint \"é\" x";
        let offset = text.find('x').unwrap();
        let (line, column, range) = line_col(text, offset);
        assert_eq!((line, column), (2, 11));
        assert_eq!(&text[range], "print \"é\" x");
    }

    #[test]
    fn spans_join_and_touch() {
        let joined = Span::new(3, 5).to(Span::new(1, 2));
        assert_eq!(joined, Span::new(1, 5));
        assert!(joined.touches(5) && !joined.touches(6));
    }
}
