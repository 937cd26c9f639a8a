//! Sub-plans: the sub-selects expressions refer to (`Expr::SubPlan`), run on demand from inside
//! expression evaluation through `fdw_api::eval::SubPlanRunner`.
//!
//! Each sub-plan has its own operator tree and its own copy of the parameter vector: a call
//! copies the caller's slots (so `$n` and any outer values are visible), writes the call's
//! arguments into the sub-plan's `param_ids`, then opens (first call) or rescans the tree.
//! While a sub-plan runs, its state is taken out of the `SubPlans` list, so the tree can
//! itself call other sub-plans through the same list.
//!
//! Uncorrelated sub-plans (PostgreSQL's InitPlans) run once: a scalar or EXISTS answer is
//! cached, and ANY/ALL keep the rows; `x = ANY (SELECT c ...)` keeps a hash set of `c`
//! instead (PostgreSQL's hashed SubPlan), so `IN`/`NOT IN` over a large uncorrelated
//! sub-select costs one lookup per outer row.

use fdw_api::eval::SubPlanRunner;
use fdw_api::{BinaryOp, Datum, Expr, FdwError, FdwResult, Row, SqlState, SubLinkKind};

use super::context::{CExpr, Cx, Env};
use super::keys::{KeyKind, KeyTable};
use super::BoxOp;
use crate::plan::physical::SubPlanDef;

/// What an uncorrelated sub-plan remembers between calls.
enum Cached {
    Value(Datum),
    Rows(Vec<Row>),
    /// Column 0 of every row, NULLs left out.
    Hashed {
        table: KeyTable,
        has_null: bool,
        empty: bool,
    },
}

pub(crate) struct SubPlanState {
    op: BoxOp,
    opened: bool,
    params: Vec<Datum>,
    param_ids: Vec<usize>,
    test: Option<CExpr>,
    test_param: usize,
    correlated: bool,
    /// Set when `test` is `$test_param = column 0` with equal types (hashable).
    hash_kind: Option<KeyKind>,
    cache: Option<Cached>,
    batch: Vec<Row>,
}

/// The states of all sub-plans of a query, by id.
#[derive(Default)]
pub(crate) struct SubPlans {
    states: Vec<Option<SubPlanState>>,
}

impl SubPlans {
    pub fn push(&mut self, def: &SubPlanDef, op: BoxOp) -> FdwResult<()> {
        let hash_kind = match (&def.kind, &def.test) {
            (SubLinkKind::Any, Some(Expr::Binary { op: BinaryOp::Eq, left, right, .. })) => match (&**left, &**right) {
                (Expr::Param { index, ty: lt }, Expr::Column { index: 0, ty: rt })
                | (Expr::Column { index: 0, ty: rt }, Expr::Param { index, ty: lt })
                    if *index == def.test_param && lt.without_modifier() == rt.without_modifier() =>
                {
                    Some(KeyKind::of(lt))
                }
                _ => None,
            },
            _ => None,
        };
        self.states.push(Some(SubPlanState {
            op,
            opened: false,
            params: Vec::new(),
            param_ids: def.param_ids.clone(),
            test: CExpr::compile_opt(def.test.as_ref())?,
            test_param: def.test_param,
            correlated: def.correlated,
            hash_kind,
            cache: None,
            batch: Vec::new(),
        }));
        Ok(())
    }

    /// Closes every sub-plan tree that was opened.
    pub fn close_all(&mut self, env: &Env<'_>, params: &mut Vec<Datum>) -> FdwResult<()> {
        let mut first_err = None;
        for i in 0..self.states.len() {
            let Some(mut st) = self.states[i].take() else { continue };
            if st.opened {
                let mut cx = Cx { params, subplans: self, env };
                if let Err(e) = st.op.close(&mut cx) {
                    first_err.get_or_insert(e);
                }
                st.opened = false;
            }
            self.states[i] = Some(st);
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// The `SubPlanRunner` handed to expression evaluation: borrows the caller's parameters
/// (read-only) and the sub-plan states.
pub(crate) struct Runner<'r, 'a> {
    pub params: &'r [Datum],
    pub subplans: &'r mut SubPlans,
    pub env: &'r Env<'a>,
}

impl SubPlanRunner for Runner<'_, '_> {
    fn run_subplan(&mut self, id: usize, kind: SubLinkKind, args: &[Datum], lhs: Option<&Datum>) -> FdwResult<Datum> {
        let mut st = self
            .subplans
            .states
            .get_mut(id)
            .and_then(Option::take)
            .ok_or_else(|| FdwError::internal(format!("executor: sub-plan {id} is missing or already running")))?;
        let result = st.run(self.params, self.subplans, self.env, kind, args, lhs);
        self.subplans.states[id] = Some(st);
        result
    }
}

fn too_many_rows() -> FdwError {
    FdwError::new(SqlState::CARDINALITY_VIOLATION, "more than one row returned by a subquery used as an expression")
}

impl SubPlanState {
    fn run(
        &mut self,
        caller_params: &[Datum],
        subplans: &mut SubPlans,
        env: &Env<'_>,
        kind: SubLinkKind,
        args: &[Datum],
        lhs: Option<&Datum>,
    ) -> FdwResult<Datum> {
        if let Some(c) = &self.cache {
            return self.answer_cached(c, subplans, env, kind, lhs);
        }
        self.params.clear();
        self.params.extend_from_slice(caller_params);
        for (slot, value) in self.param_ids.iter().zip(args) {
            match self.params.get_mut(*slot) {
                Some(p) => *p = value.clone(),
                None => return Err(FdwError::internal(format!("executor: sub-plan parameter slot {slot} missing"))),
            }
        }
        let mut cx = Cx { params: &mut self.params, subplans: &mut *subplans, env };
        if self.opened {
            self.op.rescan(&mut cx)?;
        } else {
            self.opened = true;
            self.op.open(&mut cx)?;
        }
        let batch = &mut self.batch;
        let answer = match kind {
            SubLinkKind::Scalar => {
                let mut value = None;
                loop {
                    batch.clear();
                    self.op.next_batch(&mut cx, batch, 2)?;
                    if batch.is_empty() {
                        break;
                    }
                    for row in batch.drain(..) {
                        if value.is_some() {
                            return Err(too_many_rows());
                        }
                        value = Some(row.into_iter().next().unwrap_or(Datum::Null));
                    }
                }
                Some(value.unwrap_or(Datum::Null))
            }
            SubLinkKind::Exists => {
                batch.clear();
                self.op.next_batch(&mut cx, batch, 1)?;
                Some(Datum::Bool(!batch.is_empty()))
            }
            SubLinkKind::Any | SubLinkKind::All if !self.correlated => {
                // Read everything once; later calls answer from the cache.
                let mut rows = Vec::new();
                loop {
                    batch.clear();
                    self.op.next_batch(&mut cx, batch, fdw_api::BATCH_SIZE)?;
                    if batch.is_empty() {
                        break;
                    }
                    rows.append(batch);
                }
                let cached = match self.hash_kind {
                    Some(k) => {
                        let mut table = KeyTable::new(vec![k]);
                        let mut has_null = false;
                        for r in &rows {
                            match r.first() {
                                Some(Datum::Null) | None => has_null = true,
                                Some(d) => {
                                    table.find_or_insert(std::slice::from_ref(d))?;
                                }
                            }
                        }
                        Cached::Hashed { table, has_null, empty: rows.is_empty() }
                    }
                    None => Cached::Rows(rows),
                };
                self.cache = Some(cached);
                None
            }
            SubLinkKind::Any | SubLinkKind::All => {
                let test = self.test.as_ref().ok_or_else(|| FdwError::internal("ANY/ALL sub-plan without a test"))?;
                cx.set_param(self.test_param, lhs.cloned().unwrap_or(Datum::Null))?;
                let mut acc = Quantified::new(kind);
                'rows: loop {
                    batch.clear();
                    self.op.next_batch(&mut cx, batch, fdw_api::BATCH_SIZE)?;
                    if batch.is_empty() {
                        break;
                    }
                    for row in batch.iter() {
                        let v = cx.eval(test, row)?;
                        if acc.add(&v) {
                            break 'rows;
                        }
                    }
                }
                Some(acc.result()?)
            }
        };
        match answer {
            Some(answer) => {
                if !self.correlated {
                    self.cache = Some(Cached::Value(answer.clone()));
                }
                Ok(answer)
            }
            None => match &self.cache {
                Some(c) => self.answer_cached(c, subplans, env, kind, lhs),
                None => Err(FdwError::internal("sub-plan cache missing")),
            },
        }
    }

    fn answer_cached(
        &self,
        cached: &Cached,
        subplans: &mut SubPlans,
        env: &Env<'_>,
        kind: SubLinkKind,
        lhs: Option<&Datum>,
    ) -> FdwResult<Datum> {
        let lhs = lhs.cloned().unwrap_or(Datum::Null);
        match cached {
            Cached::Value(v) => Ok(v.clone()),
            Cached::Hashed { table, has_null, empty } => Ok(if *empty {
                Datum::Bool(false)
            } else if lhs.is_null() {
                Datum::Null
            } else if table.find(std::slice::from_ref(&lhs)).is_some() {
                Datum::Bool(true)
            } else if *has_null {
                Datum::Null
            } else {
                Datum::Bool(false)
            }),
            Cached::Rows(rows) => {
                let test = self.test.as_ref().ok_or_else(|| FdwError::internal("ANY/ALL sub-plan without a test"))?;
                let mut params = self.params.clone();
                if let Some(p) = params.get_mut(self.test_param) {
                    *p = lhs;
                }
                let mut cx = Cx { params: &mut params, subplans, env };
                let mut acc = Quantified::new(kind);
                for row in rows {
                    let v = cx.eval(test, row)?;
                    if acc.add(&v) {
                        break;
                    }
                }
                acc.result()
            }
        }
    }
}

/// Three-valued ANY/ALL over the per-row test results.
struct Quantified {
    any: bool,
    decided: Option<bool>,
    saw_null: bool,
}

impl Quantified {
    fn new(kind: SubLinkKind) -> Self {
        Quantified { any: kind == SubLinkKind::Any, decided: None, saw_null: false }
    }
    /// Adds one row's result; true once the answer is known.
    fn add(&mut self, v: &Datum) -> bool {
        match v {
            Datum::Bool(b) if *b == self.any => {
                self.decided = Some(self.any);
                true
            }
            Datum::Null => {
                self.saw_null = true;
                false
            }
            _ => false,
        }
    }
    fn result(&self) -> FdwResult<Datum> {
        Ok(match self.decided {
            Some(b) => Datum::Bool(b),
            None if self.saw_null => Datum::Null,
            None => Datum::Bool(!self.any),
        })
    }
}
