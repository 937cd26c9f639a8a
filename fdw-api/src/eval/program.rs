//! Compilation of an `Expr` into a flat step program, and the interpreter loop.
//!
//! Every intermediate value gets its own register; operands are read in place from the row,
//! the constant pool, the parameters or a register (`Src`), so `a + b` over two columns is
//! one step that reads both columns and writes one register, with no allocation.
//! Control flow (CASE, COALESCE, the short-circuit of AND/OR) uses forward jumps. The
//! register file lives on the stack for programs of up to 16 registers.
//!
//! Constant sub-expressions are folded at compile time by evaluating them once; one that
//! fails (say `1/0` in a CASE branch never taken) is left in place, so the error is raised
//! only if the row actually reaches it, as in PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::expr::{BinaryOp, Expr, ScalarFunc, SubLinkKind, UnaryOp};
use crate::func;
use crate::types::{DataType, Datum, DatumKey, Row};

use super::like::LikePattern;
use super::ops;
use super::EvalContext;

static NULL: Datum = Datum::Null;

/// Where a step reads an operand.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Src {
    Col(u32),
    Const(u32),
    Param(u32),
    Reg(u32),
}

#[derive(Clone, Debug)]
enum Step {
    Copy {
        src: Src,
        dst: u32,
    },
    SetNull {
        dst: u32,
    },
    /// Strict binary operator (NULL in, NULL out).
    Binary {
        op: BinaryOp,
        l: Src,
        r: Src,
        bpchar: bool,
        dst: u32,
    },
    /// IS [NOT] DISTINCT FROM.
    Distinct {
        l: Src,
        r: Src,
        bpchar: bool,
        not: bool,
        dst: u32,
    },
    Not {
        src: Src,
        dst: u32,
    },
    Neg {
        src: Src,
        dst: u32,
    },
    IsNull {
        src: Src,
        negated: bool,
        dst: u32,
    },
    /// IS TRUE (`want` true) / IS FALSE, optionally negated.
    IsBool {
        src: Src,
        want: bool,
        negated: bool,
        dst: u32,
    },
    /// AND: when `src` is false the result is false: write it and jump to `target`.
    AndCheck {
        src: Src,
        dst: u32,
        target: u32,
    },
    AndFinish {
        l: Src,
        r: Src,
        dst: u32,
    },
    OrCheck {
        src: Src,
        dst: u32,
        target: u32,
    },
    OrFinish {
        l: Src,
        r: Src,
        dst: u32,
    },
    JumpIfNotTrue {
        src: Src,
        target: u32,
    },
    JumpIfNotNull {
        src: Src,
        target: u32,
    },
    Jump {
        target: u32,
    },
    Cast {
        src: Src,
        from: DataType,
        to: DataType,
        dst: u32,
    },
    Func {
        func: ScalarFunc,
        args: Box<[Src]>,
        ty: DataType,
        dst: u32,
    },
    NullIf {
        l: Src,
        r: Src,
        bpchar: bool,
        dst: u32,
    },
    InList {
        src: Src,
        list: Box<[Src]>,
        bpchar: bool,
        negated: bool,
        dst: u32,
    },
    InSet {
        src: Src,
        set: Arc<HashSet<DatumKey, ahash::RandomState>>,
        has_null: bool,
        negated: bool,
        dst: u32,
    },
    Like {
        src: Src,
        pat: Src,
        compiled: Option<Arc<LikePattern>>,
        escape: Option<char>,
        negated: bool,
        ci: bool,
        dst: u32,
    },
    SubPlan {
        id: usize,
        kind: SubLinkKind,
        args: Box<[Src]>,
        lhs: Option<Src>,
        dst: u32,
    },
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Program {
    steps: Vec<Step>,
    consts: Vec<Datum>,
    nregs: usize,
    result: Src,
    ty: DataType,
    /// The row must have at least this many columns.
    min_cols: usize,
    /// The parameters must number at least this many.
    min_params: usize,
}

/// Lists with at least this many constant elements are probed through a hash set.
const IN_SET_THRESHOLD: usize = 8;

struct Compiler {
    steps: Vec<Step>,
    consts: Vec<Datum>,
    nregs: u32,
    min_cols: usize,
    min_params: usize,
}

impl Compiler {
    fn reg(&mut self) -> u32 {
        self.nregs += 1;
        self.nregs - 1
    }
    fn constant(&mut self, d: Datum) -> Src {
        self.consts.push(d);
        Src::Const(self.consts.len() as u32 - 1)
    }
    fn here(&self) -> u32 {
        self.steps.len() as u32
    }
    fn patch(&mut self, at: usize, to: u32) {
        match &mut self.steps[at] {
            Step::AndCheck { target, .. }
            | Step::OrCheck { target, .. }
            | Step::JumpIfNotTrue { target, .. }
            | Step::JumpIfNotNull { target, .. }
            | Step::Jump { target } => *target = to,
            _ => {}
        }
    }
    /// Compiles `e` so that its value ends up in register `dst`.
    fn compile_into(&mut self, e: &Expr, dst: u32) -> FdwResult<()> {
        let s = self.compile(e)?;
        if s != Src::Reg(dst) {
            self.steps.push(Step::Copy { src: s, dst });
        }
        Ok(())
    }

    fn compile(&mut self, e: &Expr) -> FdwResult<Src> {
        Ok(match e {
            Expr::Column { index, .. } => {
                self.min_cols = self.min_cols.max(index + 1);
                Src::Col(*index as u32)
            }
            Expr::Const { value, .. } => self.constant(value.clone()),
            Expr::Param { index, .. } => {
                self.min_params = self.min_params.max(index + 1);
                Src::Param(*index as u32)
            }
            Expr::Binary { op: op @ (BinaryOp::And | BinaryOp::Or), left, right, .. } => {
                let dst = self.reg();
                let l = self.compile(left)?;
                let check = self.steps.len();
                self.steps.push(if *op == BinaryOp::And {
                    Step::AndCheck { src: l, dst, target: 0 }
                } else {
                    Step::OrCheck { src: l, dst, target: 0 }
                });
                let r = self.compile(right)?;
                self.steps.push(if *op == BinaryOp::And {
                    Step::AndFinish { l, r, dst }
                } else {
                    Step::OrFinish { l, r, dst }
                });
                let end = self.here();
                self.patch(check, end);
                Src::Reg(dst)
            }
            Expr::Binary { op, left, right, .. } => {
                let bpchar = is_bpchar(&left.data_type()) || is_bpchar(&right.data_type());
                let l = self.compile(left)?;
                let r = self.compile(right)?;
                let dst = self.reg();
                self.steps.push(match op {
                    BinaryOp::IsDistinctFrom => Step::Distinct { l, r, bpchar, not: false, dst },
                    BinaryOp::IsNotDistinctFrom => Step::Distinct { l, r, bpchar, not: true, dst },
                    _ => Step::Binary { op: *op, l, r, bpchar, dst },
                });
                Src::Reg(dst)
            }
            Expr::Unary { op, expr, .. } => {
                let src = self.compile(expr)?;
                let dst = self.reg();
                self.steps.push(match op {
                    UnaryOp::Not => Step::Not { src, dst },
                    UnaryOp::Neg => Step::Neg { src, dst },
                    UnaryOp::IsNull => Step::IsNull { src, negated: false, dst },
                    UnaryOp::IsNotNull => Step::IsNull { src, negated: true, dst },
                    UnaryOp::IsTrue => Step::IsBool { src, want: true, negated: false, dst },
                    UnaryOp::IsNotTrue => Step::IsBool { src, want: true, negated: true, dst },
                    UnaryOp::IsFalse => Step::IsBool { src, want: false, negated: false, dst },
                    UnaryOp::IsNotFalse => Step::IsBool { src, want: false, negated: true, dst },
                });
                Src::Reg(dst)
            }
            Expr::Func { func, args, ty } => {
                let args = args.iter().map(|a| self.compile(a)).collect::<FdwResult<Vec<_>>>()?;
                let dst = self.reg();
                self.steps.push(Step::Func { func: *func, args: args.into(), ty: ty.clone(), dst });
                Src::Reg(dst)
            }
            Expr::Cast { expr, ty } => {
                let from = expr.data_type();
                let src = self.compile(expr)?;
                // Dropping a modifier (`char(3)` to `bpchar`, `numeric(15,2)` to `numeric`)
                // changes nothing in the value: no step.
                let drops_modifier = ty.without_modifier() == *ty && from.without_modifier() == *ty;
                if &from == ty || drops_modifier {
                    src
                } else {
                    let dst = self.reg();
                    self.steps.push(Step::Cast { src, from, to: ty.clone(), dst });
                    Src::Reg(dst)
                }
            }
            Expr::Case { whens, else_expr, .. } => {
                let dst = self.reg();
                let mut ends = Vec::new();
                for (cond, then) in whens {
                    let c = self.compile(cond)?;
                    let skip = self.steps.len();
                    self.steps.push(Step::JumpIfNotTrue { src: c, target: 0 });
                    self.compile_into(then, dst)?;
                    ends.push(self.steps.len());
                    self.steps.push(Step::Jump { target: 0 });
                    let next = self.here();
                    self.patch(skip, next);
                }
                match else_expr {
                    Some(e) => self.compile_into(e, dst)?,
                    None => self.steps.push(Step::SetNull { dst }),
                }
                let end = self.here();
                for at in ends {
                    self.patch(at, end);
                }
                Src::Reg(dst)
            }
            Expr::Coalesce { args, .. } => {
                let dst = self.reg();
                let mut ends = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    self.compile_into(a, dst)?;
                    if i + 1 < args.len() {
                        ends.push(self.steps.len());
                        self.steps.push(Step::JumpIfNotNull { src: Src::Reg(dst), target: 0 });
                    }
                }
                if args.is_empty() {
                    self.steps.push(Step::SetNull { dst });
                }
                let end = self.here();
                for at in ends {
                    self.patch(at, end);
                }
                Src::Reg(dst)
            }
            Expr::NullIf { left, right, .. } => {
                let bpchar = is_bpchar(&left.data_type());
                let l = self.compile(left)?;
                let r = self.compile(right)?;
                let dst = self.reg();
                self.steps.push(Step::NullIf { l, r, bpchar, dst });
                Src::Reg(dst)
            }
            Expr::InList { expr, list, negated } => {
                let bpchar = is_bpchar(&expr.data_type());
                let src = self.compile(expr)?;
                let dst = self.reg();
                let all_const = list.iter().all(|e| matches!(e, Expr::Const { .. }));
                if all_const && list.len() >= IN_SET_THRESHOLD && !bpchar {
                    let mut set = HashSet::with_hasher(ahash::RandomState::new());
                    let mut has_null = false;
                    for e in list {
                        if let Expr::Const { value, .. } = e {
                            if value.is_null() {
                                has_null = true;
                            } else {
                                set.insert(DatumKey(value.clone()));
                            }
                        }
                    }
                    self.steps.push(Step::InSet { src, set: Arc::new(set), has_null, negated: *negated, dst });
                } else {
                    let items = list.iter().map(|e| self.compile(e)).collect::<FdwResult<Vec<_>>>()?;
                    self.steps.push(Step::InList { src, list: items.into(), bpchar, negated: *negated, dst });
                }
                Src::Reg(dst)
            }
            Expr::Like { expr, pattern, escape, negated, case_insensitive } => {
                let src = self.compile(expr)?;
                let escape = Some(escape.unwrap_or('\\'));
                let compiled = match &**pattern {
                    Expr::Const { value: Datum::Text(p), .. } => {
                        Some(Arc::new(LikePattern::compile(p, escape, *case_insensitive)?))
                    }
                    _ => None,
                };
                let pat = self.compile(pattern)?;
                let dst = self.reg();
                self.steps.push(Step::Like {
                    src,
                    pat,
                    compiled,
                    escape,
                    negated: *negated,
                    ci: *case_insensitive,
                    dst,
                });
                Src::Reg(dst)
            }
            Expr::SubPlan { id, kind, args, lhs, .. } => {
                let args = args.iter().map(|a| self.compile(a)).collect::<FdwResult<Vec<_>>>()?;
                let lhs = match lhs {
                    Some(l) => Some(self.compile(l)?),
                    None => None,
                };
                let dst = self.reg();
                self.steps.push(Step::SubPlan { id: *id, kind: *kind, args: args.into(), lhs, dst });
                Src::Reg(dst)
            }
        })
    }
}

fn is_bpchar(t: &DataType) -> bool {
    matches!(t, DataType::Char(_))
}

/// Whether a node may be evaluated once at compile time (given constant children).
fn foldable(e: &Expr) -> bool {
    match e {
        Expr::Column { .. } | Expr::Param { .. } | Expr::SubPlan { .. } | Expr::Const { .. } => false,
        Expr::Func { func: ScalarFunc::Random | ScalarFunc::Now | ScalarFunc::CurrentDate, .. } => false,
        _ => e.children().iter().all(|c| matches!(c, Expr::Const { .. })),
    }
}

/// Folds constant sub-expressions bottom-up; a node whose evaluation fails is kept.
fn fold(e: Expr) -> Expr {
    e.transform(&mut |node| {
        if !foldable(&node) {
            return node;
        }
        let ty = node.data_type();
        match Program::compile_raw(&node).and_then(|p| p.eval(&[], &mut EvalContext::default())) {
            Ok(value) => Expr::Const { value, ty },
            Err(_) => node,
        }
    })
}

/// Evaluates an expression that references no columns (defaults, plan-time constants).
pub fn eval_const(expr: &Expr) -> FdwResult<Datum> {
    Program::compile(expr)?.eval(&[], &mut EvalContext::default())
}

#[inline]
fn truth(d: &Datum) -> Option<bool> {
    match d {
        Datum::Bool(b) => Some(*b),
        _ => None,
    }
}

impl Program {
    /// Compiles an expression. Constant sub-expressions are folded here.
    pub fn compile(expr: &Expr) -> FdwResult<Program> {
        let folded = fold(expr.clone());
        Program::compile_raw(&folded)
    }

    fn compile_raw(expr: &Expr) -> FdwResult<Program> {
        let mut c = Compiler { steps: Vec::new(), consts: Vec::new(), nregs: 0, min_cols: 0, min_params: 0 };
        let result = c.compile(expr)?;
        Ok(Program {
            steps: c.steps,
            consts: c.consts,
            nregs: c.nregs as usize,
            result,
            ty: expr.data_type(),
            min_cols: c.min_cols,
            min_params: c.min_params,
        })
    }

    pub fn data_type(&self) -> DataType {
        self.ty.clone()
    }

    /// The value when the whole expression folded to a constant.
    pub fn as_const(&self) -> Option<&Datum> {
        match self.result {
            Src::Const(i) if self.steps.is_empty() => self.consts.get(i as usize),
            _ => None,
        }
    }

    /// The column index when the expression is a bare column reference.
    pub fn as_column(&self) -> Option<usize> {
        match self.result {
            Src::Col(i) if self.steps.is_empty() => Some(i as usize),
            _ => None,
        }
    }

    /// Number of steps (for EXPLAIN-style diagnostics and tests).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Evaluates against one row.
    pub fn eval(&self, row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<Datum> {
        if row.len() < self.min_cols {
            return Err(FdwError::internal(format!(
                "expression reads column {} of a row of {} columns",
                self.min_cols,
                row.len()
            )));
        }
        if ctx.params.len() < self.min_params {
            return Err(FdwError::new(
                SqlState::UNDEFINED_PARAMETER,
                format!("there is no parameter ${}", self.min_params),
            ));
        }
        if self.steps.is_empty() {
            return Ok(self.get(self.result, row, ctx.params, &[]).clone());
        }
        // One operator over columns/constants (`a + b`, `x < 10`): no register file at all.
        if let [Step::Binary { op, l, r, bpchar, .. }] = self.steps.as_slice() {
            if !matches!(l, Src::Reg(_)) && !matches!(r, Src::Reg(_)) {
                let a = self.get(*l, row, ctx.params, &[]);
                let b = self.get(*r, row, ctx.params, &[]);
                return match ops::fast_binary(*op, a, b) {
                    Some(v) => Ok(v),
                    None => binary_slow(*op, a, b, *bpchar),
                };
            }
        }
        if self.nregs == 1 {
            let mut regs = [Datum::Null];
            self.run(&mut regs, row, ctx)
        } else if self.nregs <= 4 {
            let mut regs: [Datum; 4] = std::array::from_fn(|_| Datum::Null);
            self.run(&mut regs, row, ctx)
        } else if self.nregs <= 16 {
            let mut regs: [Datum; 16] = std::array::from_fn(|_| Datum::Null);
            self.run(&mut regs, row, ctx)
        } else {
            let mut regs = vec![Datum::Null; self.nregs];
            self.run(&mut regs, row, ctx)
        }
    }

    /// Evaluates a predicate: NULL counts as false, as in WHERE.
    pub fn eval_predicate(&self, row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<bool> {
        Ok(matches!(self.eval(row, ctx)?, Datum::Bool(true)))
    }

    /// Evaluates against every row of a batch, appending one value per row to `out`. The
    /// checks and the register file are set up once per batch rather than once per row.
    pub fn eval_batch(&self, rows: &[Row], ctx: &mut EvalContext<'_>, out: &mut Vec<Datum>) -> FdwResult<()> {
        out.reserve(rows.len());
        self.for_each(rows, ctx, &mut |_, v| out.push(v))
    }

    /// Evaluates a predicate over a batch, appending the indexes of the rows for which it is
    /// true (NULL counts as false) to `selected`.
    pub fn filter_batch(&self, rows: &[Row], ctx: &mut EvalContext<'_>, selected: &mut Vec<usize>) -> FdwResult<()> {
        self.for_each(rows, ctx, &mut |i, v| {
            if matches!(v, Datum::Bool(true)) {
                selected.push(i)
            }
        })
    }

    fn for_each(&self, rows: &[Row], ctx: &mut EvalContext<'_>, f: &mut dyn FnMut(usize, Datum)) -> FdwResult<()> {
        if self.steps.len() <= 1 || rows.iter().any(|r| r.len() < self.min_cols) {
            // Single steps already take the register-free path; short rows get eval's error.
            for (i, r) in rows.iter().enumerate() {
                f(i, self.eval(r, ctx)?);
            }
            return Ok(());
        }
        if ctx.params.len() < self.min_params {
            return Err(FdwError::new(
                SqlState::UNDEFINED_PARAMETER,
                format!("there is no parameter ${}", self.min_params),
            ));
        }
        let mut regs = vec![Datum::Null; self.nregs];
        for (i, r) in rows.iter().enumerate() {
            f(i, self.run(&mut regs, r, ctx)?);
        }
        Ok(())
    }

    #[inline(always)]
    fn get<'a>(&'a self, s: Src, row: &'a [Datum], params: &'a [Datum], regs: &'a [Datum]) -> &'a Datum {
        let v = match s {
            Src::Col(i) => row.get(i as usize),
            Src::Const(i) => self.consts.get(i as usize),
            Src::Param(i) => params.get(i as usize),
            Src::Reg(i) => regs.get(i as usize),
        };
        v.unwrap_or(&NULL)
    }

    fn run(&self, regs: &mut [Datum], row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<Datum> {
        let params = ctx.params;
        let steps = &self.steps;
        let mut pc = 0usize;
        while let Some(step) = steps.get(pc) {
            pc += 1;
            match step {
                Step::Binary { op, l, r, bpchar, dst } => {
                    let a = self.get(*l, row, params, regs);
                    let b = self.get(*r, row, params, regs);
                    let v = match ops::fast_binary(*op, a, b) {
                        Some(v) => v,
                        None => binary_slow(*op, a, b, *bpchar)?,
                    };
                    regs[*dst as usize] = v;
                }
                Step::Copy { src, dst } => {
                    let v = self.get(*src, row, params, regs).clone();
                    regs[*dst as usize] = v;
                }
                Step::SetNull { dst } => regs[*dst as usize] = Datum::Null,
                Step::AndCheck { src, dst, target } => {
                    if truth(self.get(*src, row, params, regs)) == Some(false) {
                        regs[*dst as usize] = Datum::Bool(false);
                        pc = *target as usize;
                    }
                }
                Step::AndFinish { l, r, dst } => {
                    let a = truth(self.get(*l, row, params, regs));
                    let b = truth(self.get(*r, row, params, regs));
                    regs[*dst as usize] = match (a, b) {
                        (_, Some(false)) | (Some(false), _) => Datum::Bool(false),
                        (Some(true), Some(true)) => Datum::Bool(true),
                        _ => Datum::Null,
                    };
                }
                Step::OrCheck { src, dst, target } => {
                    if truth(self.get(*src, row, params, regs)) == Some(true) {
                        regs[*dst as usize] = Datum::Bool(true);
                        pc = *target as usize;
                    }
                }
                Step::OrFinish { l, r, dst } => {
                    let a = truth(self.get(*l, row, params, regs));
                    let b = truth(self.get(*r, row, params, regs));
                    regs[*dst as usize] = match (a, b) {
                        (_, Some(true)) | (Some(true), _) => Datum::Bool(true),
                        (Some(false), Some(false)) => Datum::Bool(false),
                        _ => Datum::Null,
                    };
                }
                Step::JumpIfNotTrue { src, target } => {
                    if truth(self.get(*src, row, params, regs)) != Some(true) {
                        pc = *target as usize;
                    }
                }
                Step::JumpIfNotNull { src, target } => {
                    if !self.get(*src, row, params, regs).is_null() {
                        pc = *target as usize;
                    }
                }
                Step::Jump { target } => pc = *target as usize,
                Step::Distinct { l, r, bpchar, not, dst } => {
                    let a = self.get(*l, row, params, regs);
                    let b = self.get(*r, row, params, regs);
                    let same = match (a.is_null(), b.is_null()) {
                        (true, true) => true,
                        (false, false) => ops::compare(BinaryOp::Eq, a, b, *bpchar),
                        _ => false,
                    };
                    regs[*dst as usize] = Datum::Bool(same == *not);
                }
                Step::Not { src, dst } => {
                    let v = match truth(self.get(*src, row, params, regs)) {
                        Some(b) => Datum::Bool(!b),
                        None => Datum::Null,
                    };
                    regs[*dst as usize] = v;
                }
                Step::Neg { src, dst } => {
                    let v = ops::negate(self.get(*src, row, params, regs))?;
                    regs[*dst as usize] = v;
                }
                Step::IsNull { src, negated, dst } => {
                    let v = self.get(*src, row, params, regs).is_null() != *negated;
                    regs[*dst as usize] = Datum::Bool(v);
                }
                Step::IsBool { src, want, negated, dst } => {
                    let v = (truth(self.get(*src, row, params, regs)) == Some(*want)) != *negated;
                    regs[*dst as usize] = Datum::Bool(v);
                }
                Step::Cast { src, from, to, dst } => {
                    let v = self.get(*src, row, params, regs);
                    let v = if v.is_null() { Datum::Null } else { func::cast_datum(v.clone(), from, to)? };
                    regs[*dst as usize] = v;
                }
                Step::Func { func, args, ty, dst } => {
                    let v = self.call_func(*func, args, ty, row, params, regs)?;
                    regs[*dst as usize] = v;
                }
                Step::NullIf { l, r, bpchar, dst } => {
                    let a = self.get(*l, row, params, regs);
                    let b = self.get(*r, row, params, regs);
                    let v = if !a.is_null() && !b.is_null() && ops::compare(BinaryOp::Eq, a, b, *bpchar) {
                        Datum::Null
                    } else {
                        a.clone()
                    };
                    regs[*dst as usize] = v;
                }
                Step::InList { src, list, bpchar, negated, dst } => {
                    let v = self.in_list(*src, list, *bpchar, *negated, row, params, regs);
                    regs[*dst as usize] = v;
                }
                Step::InSet { src, set, has_null, negated, dst } => {
                    let x = self.get(*src, row, params, regs);
                    let v = if x.is_null() {
                        Datum::Null
                    } else if set.contains(&DatumKey(x.clone())) {
                        Datum::Bool(!*negated)
                    } else if *has_null {
                        Datum::Null
                    } else {
                        Datum::Bool(*negated)
                    };
                    regs[*dst as usize] = v;
                }
                Step::Like { src, pat, compiled, escape, negated, ci, dst } => {
                    let v = self.like(*src, *pat, compiled.as_deref(), *escape, *negated, *ci, row, params, regs)?;
                    regs[*dst as usize] = v;
                }
                Step::SubPlan { id, kind, args, lhs, dst } => {
                    let v = self.subplan(*id, *kind, args, *lhs, row, ctx, regs)?;
                    regs[*dst as usize] = v;
                }
            }
        }
        Ok(match self.result {
            Src::Reg(i) => std::mem::replace(&mut regs[i as usize], Datum::Null),
            s => self.get(s, row, params, regs).clone(),
        })
    }
}

/// The general path of a binary operator: NULL operands give NULL, the rest `ops::binary`.
#[inline(never)]
fn binary_slow(op: BinaryOp, a: &Datum, b: &Datum, bpchar: bool) -> FdwResult<Datum> {
    if a.is_null() || b.is_null() {
        return Ok(Datum::Null);
    }
    ops::binary(op, a, b, bpchar)
}

// The less frequent steps live out of line so the interpreter loop stays small.
impl Program {
    #[inline(never)]
    fn call_func(
        &self,
        func: ScalarFunc,
        args: &[Src],
        ty: &DataType,
        row: &[Datum],
        params: &[Datum],
        regs: &[Datum],
    ) -> FdwResult<Datum> {
        if args.len() <= 8 {
            let mut buf: [&Datum; 8] = [&NULL; 8];
            for (slot, s) in buf.iter_mut().zip(args.iter()) {
                *slot = self.get(*s, row, params, regs);
            }
            func::call_scalar(func, &buf[..args.len()], ty)
        } else {
            let vals: Vec<&Datum> = args.iter().map(|s| self.get(*s, row, params, regs)).collect();
            func::call_scalar(func, &vals, ty)
        }
    }

    #[inline(never)]
    fn in_list(
        &self,
        src: Src,
        list: &[Src],
        bpchar: bool,
        negated: bool,
        row: &[Datum],
        params: &[Datum],
        regs: &[Datum],
    ) -> Datum {
        let x = self.get(src, row, params, regs);
        if x.is_null() {
            return Datum::Null;
        }
        let mut saw_null = false;
        for s in list {
            let y = self.get(*s, row, params, regs);
            if y.is_null() {
                saw_null = true;
            } else if ops::compare(BinaryOp::Eq, x, y, bpchar) {
                return Datum::Bool(!negated);
            }
        }
        if saw_null {
            Datum::Null
        } else {
            Datum::Bool(negated)
        }
    }

    #[inline(never)]
    fn like(
        &self,
        src: Src,
        pat: Src,
        compiled: Option<&LikePattern>,
        escape: Option<char>,
        negated: bool,
        ci: bool,
        row: &[Datum],
        params: &[Datum],
        regs: &[Datum],
    ) -> FdwResult<Datum> {
        let x = self.get(src, row, params, regs);
        let p = self.get(pat, row, params, regs);
        Ok(match (x, p) {
            (Datum::Text(s), Datum::Text(ps)) => {
                let m = match compiled {
                    Some(c) => c.matches(s),
                    None => LikePattern::compile(ps, escape, ci)?.matches(s),
                };
                Datum::Bool(m != negated)
            }
            (Datum::Null, _) | (_, Datum::Null) => Datum::Null,
            _ => return Err(FdwError::internal("LIKE on a non-text value")),
        })
    }

    #[inline(never)]
    fn subplan(
        &self,
        id: usize,
        kind: SubLinkKind,
        args: &[Src],
        lhs: Option<Src>,
        row: &[Datum],
        ctx: &mut EvalContext<'_>,
        regs: &[Datum],
    ) -> FdwResult<Datum> {
        let params = ctx.params;
        let vals: Vec<Datum> = args.iter().map(|s| self.get(*s, row, params, regs).clone()).collect();
        let l = lhs.map(|s| self.get(s, row, params, regs).clone());
        let runner = ctx
            .subplans
            .as_deref_mut()
            .ok_or_else(|| FdwError::internal("expression contains a sub-select but no sub-plan runner was given"))?;
        runner.run_subplan(id, kind, &vals, l.as_ref())
    }
}
