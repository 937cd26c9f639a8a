//! What the three join operators share: the join type, the widths of both sides, the extra
//! qual over `outer ++ inner`, and how output rows are formed (joined, or NULL-extended for
//! outer joins; the outer row alone for semi and anti joins).

use fdw_api::{Datum, Expr, FdwResult, Row};

use super::context::{CExpr, Cx};
use crate::plan::physical::{JoinType, Plan};

pub(crate) struct JoinSpec {
    pub join_type: JoinType,
    pub outer_width: usize,
    pub inner_width: usize,
    pub qual: Option<CExpr>,
}

impl JoinSpec {
    pub fn new(join_type: JoinType, outer: &Plan, inner: &Plan, qual: Option<&Expr>) -> FdwResult<Self> {
        Ok(JoinSpec {
            join_type,
            outer_width: outer.output.len(),
            inner_width: inner.output.len(),
            qual: CExpr::compile_opt(qual)?,
        })
    }

    /// Outer joins keep unmatched outer rows (Left, Full; Anti keeps only those).
    pub fn keeps_unmatched_outer(&self) -> bool {
        matches!(self.join_type, JoinType::Left | JoinType::Full)
    }

    /// Right and full joins emit the inner rows no outer row matched.
    pub fn keeps_unmatched_inner(&self) -> bool {
        matches!(self.join_type, JoinType::Right | JoinType::Full)
    }

    /// Forms `outer ++ inner` in `scratch` and checks the qual. On success the joined row is
    /// moved out (the only allocation is the output row); on failure `scratch` is reused.
    #[inline]
    pub fn try_join(
        &self,
        cx: &mut Cx<'_>,
        outer: &[Datum],
        inner: &[Datum],
        scratch: &mut Row,
    ) -> FdwResult<Option<Row>> {
        scratch.clear();
        scratch.extend_from_slice(outer);
        scratch.extend_from_slice(inner);
        if let Some(q) = &self.qual {
            if !cx.eval_pred(q, scratch)? {
                return Ok(None);
            }
        }
        let fresh = Vec::with_capacity(self.outer_width + self.inner_width);
        Ok(Some(std::mem::replace(scratch, fresh)))
    }

    /// Whether the pair passes the qual (semi/anti joins, which do not emit the pair).
    #[inline]
    pub fn qual_passes(&self, cx: &mut Cx<'_>, outer: &[Datum], inner: &[Datum], scratch: &mut Row) -> FdwResult<bool> {
        let Some(q) = &self.qual else { return Ok(true) };
        scratch.clear();
        scratch.extend_from_slice(outer);
        scratch.extend_from_slice(inner);
        cx.eval_pred(q, scratch)
    }

    /// The output row for an outer row without a match: itself (anti join) or NULL-extended.
    pub fn unmatched_outer(&self, outer: Row) -> Row {
        if self.join_type == JoinType::Anti {
            return outer;
        }
        let mut row = outer;
        row.resize(self.outer_width + self.inner_width, Datum::Null);
        row
    }

    /// The output row for an inner row without a match (right/full joins).
    pub fn unmatched_inner(&self, inner: &[Datum]) -> Row {
        let mut row = Vec::with_capacity(self.outer_width + self.inner_width);
        row.resize(self.outer_width, Datum::Null);
        row.extend_from_slice(inner);
        row
    }
}
