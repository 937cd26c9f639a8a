//! EXPLAIN in PostgreSQL's text format.
//!
//! Node names, `(cost=S..T rows=R width=W)`, detail lines (`Hash Cond:`, `Filter:`,
//! `Sort Key:`, `Group Key:`, the wrapper's own lines such as `Foreign File:`) and, with
//! ANALYZE, `(actual time=S..T rows=R loops=L)`. Projections are not nodes in PostgreSQL's
//! output and are folded into their input; a Filter node is shown as a `Filter:` line of its
//! input; the build side of a hash join is shown under a `Hash` node, as PostgreSQL does.
//! Column names are qualified by relation alias when the query reads more than one relation.

use std::fmt::Write;

use fdw_api::{BinaryOp, DataType, Datum, Expr, ScalarFunc, SubLinkKind, UnaryOp};

use super::physical::*;
use crate::exec::NodeStats;

/// What to print.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplainOptions {
    pub verbose: bool,
    pub costs: bool,
    pub analyze: bool,
    /// ANALYZE's per-node times (`TIMING`, on by default with ANALYZE).
    pub timing: bool,
    /// The `Planning Time`/`Execution Time` lines (`SUMMARY`, on by default with ANALYZE).
    pub summary: bool,
}

/// Renders a plan; `stats` (EXPLAIN ANALYZE) are in pre-order of the main tree, then of each
/// sub-plan in id order.
pub fn explain(q: &PhysicalQuery, opts: ExplainOptions, stats: Option<&[NodeStats]>) -> Vec<String> {
    let mut scans = 0;
    count_scans(&q.root, &mut scans);
    for sp in &q.subplans {
        count_scans(&sp.plan, &mut scans);
    }
    let mut p = Printer {
        q,
        opts,
        stats,
        next_stat: 0,
        lines: Vec::new(),
        qualify: scans > 1 || opts.verbose,
        printed_subplans: vec![false; q.subplans.len()],
        param_names: Default::default(),
    };
    p.node(&q.root, 0, true);
    p.lines
}

fn count_scans(p: &Plan, n: &mut usize) {
    if matches!(p.node, Node::ForeignScan(_)) {
        *n += 1;
    }
    for c in children(p) {
        count_scans(c, n);
    }
}

fn children(p: &Plan) -> Vec<&Plan> {
    match &p.node {
        Node::ForeignScan(_) | Node::Values { .. } | Node::WorkTableScan { .. } => vec![],
        Node::RecursiveUnion { base, recursive, .. } => vec![base, recursive],
        Node::Filter { input, .. }
        | Node::Project { input, .. }
        | Node::Sort { input, .. }
        | Node::TopN { input, .. }
        | Node::Limit { input, .. }
        | Node::Aggregate { input, .. }
        | Node::Distinct { input, .. }
        | Node::Materialize { input } => vec![input],
        Node::NestedLoop { outer, inner, .. }
        | Node::HashJoin { outer, inner, .. }
        | Node::MergeJoin { outer, inner, .. } => {
            vec![outer, inner]
        }
        Node::SetOp { left, right, .. } => vec![left, right],
        Node::Append { inputs } => inputs.iter().collect(),
        Node::Modify(m) => vec![&m.input],
    }
}

struct Printer<'a> {
    q: &'a PhysicalQuery,
    opts: ExplainOptions,
    stats: Option<&'a [NodeStats]>,
    next_stat: usize,
    lines: Vec<String>,
    qualify: bool,
    printed_subplans: Vec<bool>,
    /// How to show a nested loop's parameters inside its inner side: the outer expression
    /// they carry (PostgreSQL prints `Index Cond: (id = p.lead)`, not `$1`).
    param_names: std::collections::HashMap<usize, String>,
}

impl Printer<'_> {
    fn take_stat(&mut self) -> Option<NodeStats> {
        let s = self.stats?.get(self.next_stat).cloned();
        self.next_stat += 1;
        s
    }

    fn header(&self, name: &str, plan: &Plan, stat: Option<&NodeStats>) -> String {
        let mut s = name.to_string();
        if self.opts.costs {
            let _ = write!(
                s,
                "  (cost={:.2}..{:.2} rows={} width={})",
                plan.cost.startup, plan.cost.total, plan.rows as u64, plan.width
            );
        }
        if self.opts.analyze {
            match stat {
                Some(st) if st.loops > 0 => {
                    let loops = st.loops as f64;
                    s.push_str(" (actual ");
                    if self.opts.timing {
                        let _ = write!(s, "time={:.3}..{:.3} ", st.startup_ms / loops, st.total_ms / loops);
                    }
                    let _ = write!(s, "rows={} loops={})", (st.rows as f64 / loops).round() as u64, st.loops);
                }
                _ => s.push_str(" (never executed)"),
            }
        }
        s
    }

    fn push(&mut self, indent: usize, first: bool, text: String) {
        if first {
            if indent == 0 {
                self.lines.push(text);
            } else {
                self.lines.push(format!("{}->  {}", " ".repeat(indent * 6 - 4), text));
            }
        } else {
            self.lines.push(format!("{}{}", " ".repeat(if indent == 0 { 2 } else { indent * 6 + 2 }), text));
        }
    }

    /// Output column names of a plan, deparsed.
    fn names(&self, p: &Plan) -> Vec<String> {
        match &p.node {
            // A join or aggregation computed by the wrapper: its output is named by the plan.
            Node::ForeignScan(s) if s.relation.is_empty() => p.output.iter().map(|c| c.name.clone()).collect(),
            Node::ForeignScan(s) => {
                let q = s.alias.clone().unwrap_or_else(|| s.relation.clone());
                let mut v: Vec<String> =
                    s.request.columns.iter().map(|&c| self.qualified(&q, &s.request.table.columns[c].name)).collect();
                if s.request.want_row_id {
                    v.push(self.qualified(&q, "ctid"));
                }
                v
            }
            // A Result shows its row's expressions; a Values Scan names its columns.
            Node::Values { rows } if rows.len() == 1 => rows[0].iter().map(|e| self.deparse(e, &[])).collect(),
            Node::Values { rows } => {
                (0..rows.first().map_or(0, |r| r.len())).map(|i| format!("\"*VALUES*\".column{}", i + 1)).collect()
            }
            Node::Filter { input, .. }
            | Node::Sort { input, .. }
            | Node::TopN { input, .. }
            | Node::Limit { input, .. }
            | Node::Distinct { input, .. }
            | Node::Materialize { input } => self.names(input),
            Node::Project { input, exprs } => {
                let inner = self.names(input);
                exprs.iter().map(|e| self.deparse(e, &inner)).collect()
            }
            Node::Aggregate { input, group_by, aggs, .. } => {
                let inner = self.names(input);
                let mut v: Vec<String> = group_by.iter().map(|g| self.deparse(g, &inner)).collect();
                for a in aggs {
                    v.push(self.agg(a, &inner));
                }
                v
            }
            Node::NestedLoop { outer, inner, join_type, .. }
            | Node::HashJoin { outer, inner, join_type, .. }
            | Node::MergeJoin { outer, inner, join_type, .. } => {
                let mut v = self.names(outer);
                if join_type.emits_inner() {
                    v.extend(self.names(inner));
                }
                v
            }
            Node::SetOp { left, .. } => self.names(left),
            Node::RecursiveUnion { base, .. } => self.names(base),
            Node::WorkTableScan { .. } => p.output.iter().map(|c| c.name.clone()).collect(),
            Node::Append { inputs } => inputs.first().map(|i| self.names(i)).unwrap_or_default(),
            Node::Modify(_) => p.output.iter().map(|c| c.name.clone()).collect(),
        }
    }

    fn qualified(&self, q: &str, c: &str) -> String {
        if self.qualify {
            format!("{}.{}", q, c)
        } else {
            c.to_string()
        }
    }

    fn agg(&self, a: &AggCall, inner: &[String]) -> String {
        let name = format!("{:?}", a.func).to_lowercase();
        let name = match name.as_str() {
            "countstar" => return "count(*)".into(),
            "stddevsamp" => "stddev".into(),
            "varsamp" => "variance".into(),
            "boolor" => "bool_or".into(),
            "booland" => "bool_and".into(),
            "stringagg" => "string_agg".into(),
            "stddevpop" => "stddev_pop".into(),
            "varpop" => "var_pop".into(),
            n => n.to_string(),
        };
        let args: Vec<String> = a.args.iter().map(|x| self.deparse(x, inner)).collect();
        let mut s = format!("{}({}{})", name, if a.distinct { "DISTINCT " } else { "" }, args.join(", "));
        if let Some(f) = &a.filter {
            let _ = write!(s, " FILTER (WHERE {})", self.deparse(f, inner));
        }
        s
    }

    fn node(&mut self, p: &Plan, indent: usize, first: bool) {
        // Invisible nodes: a projection shows as its input; a filter as its input plus a line.
        if let Node::Project { input, exprs } = &p.node {
            let _ = self.take_stat();
            // Sub-selects in the target list belong to the node that computes it.
            let mut sps = Vec::new();
            let names = self.names(input);
            for e in exprs {
                self.collect_subplans(e, &names, &mut sps);
            }
            // PostgreSQL shows the projection as the input's Output line.
            let proj = self.opts.verbose.then_some(p);
            self.node_with_subplans(input, indent, first, Vec::new(), proj, sps);
            return;
        }
        if let Node::Filter { input, predicate } = &p.node {
            let _ = self.take_stat();
            let names = self.names(input);
            let line = format!("Filter: {}", self.deparse_top(predicate, &names));
            let mut sps = Vec::new();
            self.collect_subplans(predicate, &names, &mut sps);
            self.node_with_subplans(input, indent, first, vec![line], None, sps);
            return;
        }
        self.node_with(p, indent, first, Vec::new(), None);
    }

    fn node_with(&mut self, p: &Plan, indent: usize, first: bool, extra: Vec<String>, proj: Option<&Plan>) {
        self.node_with_subplans(p, indent, first, extra, proj, Vec::new());
    }

    fn node_with_subplans(
        &mut self,
        p: &Plan,
        indent: usize,
        first: bool,
        extra: Vec<String>,
        proj: Option<&Plan>,
        mut subplans: Vec<usize>,
    ) {
        if matches!(p.node, Node::Project { .. } | Node::Filter { .. }) {
            // Stacked invisible nodes: print the inner one, carrying the extra lines along.
            let _ = self.take_stat();
            match &p.node {
                Node::Project { input, exprs } => {
                    // Sub-selects in the target list belong to the node that computes it.
                    let names = self.names(input);
                    for e in exprs {
                        self.collect_subplans(e, &names, &mut subplans);
                    }
                    return self.node_with_subplans(input, indent, first, extra, proj.or(Some(p)), subplans);
                }
                Node::Filter { input, predicate } => {
                    let names = self.names(input);
                    let mut extra = extra;
                    extra.push(format!("Filter: {}", self.deparse_top(predicate, &names)));
                    self.collect_subplans(predicate, &names, &mut subplans);
                    return self.node_with_subplans(input, indent, first, extra, proj, subplans);
                }
                _ => unreachable!(),
            }
        }
        let stat = self.take_stat();
        let (name, mut details) = self.describe(p);
        let header = self.header(&name, proj.unwrap_or(p), stat.as_ref());
        self.push(indent, first, header);
        // A modification without RETURNING has no Output line in PostgreSQL.
        if self.opts.verbose && !matches!(&p.node, Node::Modify(m) if m.returning.is_none()) {
            let names = self.names(proj.unwrap_or(p));
            self.push(indent, false, format!("Output: {}", names.join(", ")));
        }
        details.extend(extra);
        for d in details {
            self.push(indent, false, d);
        }
        self.collect_node_subplans(p, &mut subplans);
        for id in subplans {
            if id < self.printed_subplans.len() && !self.printed_subplans[id] {
                self.subplan(id, indent);
            }
        }
        match &p.node {
            Node::HashJoin { outer, inner, build_outer, .. } => {
                let (probe, build) = if *build_outer { (inner, outer) } else { (outer, inner) };
                let (outer, inner) = (probe, build);
                self.node(outer, indent + 1, true);
                // PostgreSQL's Hash node over the build side. It has no statistics of its own:
                // it shows those of its input (the next node in pre-order), the rows it hashed.
                let hashed = self.stats.and_then(|s| s.get(self.next_stat)).cloned();
                let h = self.header("Hash", inner, hashed.as_ref());
                self.push(indent + 1, true, h);
                if self.opts.verbose {
                    let names = self.names(inner);
                    self.push(indent + 1, false, format!("Output: {}", names.join(", ")));
                }
                self.node(inner, indent + 2, true);
            }
            Node::TopN { input, keys, .. } => {
                let h = self.header("Sort", p, stat.as_ref());
                self.push(indent + 1, true, h);
                let names = self.names(input);
                let k: Vec<String> = keys.iter().map(|k| self.sort_key(k, &names)).collect();
                self.push(indent + 1, false, format!("Sort Key: {}", k.join(", ")));
                self.node(input, indent + 2, true);
            }
            Node::Modify(m) if m.direct.is_some() => self.direct_modify(m, indent + 1),
            Node::NestedLoop { outer, inner, params, .. } if !params.is_empty() => {
                let names = self.names(outer);
                for (pid, e) in params {
                    let shown = self.deparse(e, &names);
                    self.param_names.insert(*pid, shown);
                }
                self.node(outer, indent + 1, true);
                self.node(inner, indent + 1, true);
            }
            _ => {
                for c in children(p) {
                    self.node(c, indent + 1, true);
                }
            }
        }
    }

    /// The target of a modification: schema-qualified in VERBOSE, as PostgreSQL prints it.
    fn modified_relation(&self, m: &ModifyNode) -> String {
        if self.opts.verbose {
            format!("{}.{}", m.table.schema, m.table.name)
        } else {
            m.table.name.clone()
        }
    }

    /// A direct modification's child (PostgreSQL's ForeignScan with an UPDATE/DELETE
    /// operation): `Foreign Update on t` with the input's estimates and the wrapper's lines.
    fn direct_modify(&mut self, m: &ModifyNode, indent: usize) {
        let Some(d) = &m.direct else { return };
        let stat = self.take_stat();
        let verb = if d.kind == fdw_api::ModifyKind::Delete { "Delete" } else { "Update" };
        let name = format!("Foreign {verb} on {}", self.modified_relation(m));
        let header = self.header(&name, &m.input, stat.as_ref());
        self.push(indent, true, header);
        let lines = m.wrapper.pushdown_routine().map(|r| r.explain_direct_modify(d, self.opts.verbose));
        for (k, v) in lines.unwrap_or_default() {
            self.push(indent, false, format!("{k}: {v}"));
        }
    }

    fn subplan(&mut self, id: usize, indent: usize) {
        self.printed_subplans[id] = true;
        let sp = &self.q.subplans[id];
        let label = if sp.correlated {
            format!("SubPlan {}", id + 1)
        } else {
            format!("InitPlan {} (returns ${})", id + 1, id)
        };
        let pad = if indent == 0 { 2 } else { indent * 6 + 2 };
        self.lines.push(format!("{}{}", " ".repeat(pad), label));
        let plan = &self.q.subplans[id].plan;
        // Children of a sub-plan label are indented one level deeper than the label.
        let saved = std::mem::take(&mut self.lines);
        self.node(plan, 1, true);
        let sub = std::mem::replace(&mut self.lines, saved);
        for l in sub {
            self.lines.push(format!("{}{}", " ".repeat(pad), l));
        }
    }

    /// Adds the sub-plans `e` calls (over a node whose columns are `names`) to `out`, and
    /// names the parameters each call passes after the outer expression it passes, as
    /// PostgreSQL prints them inside the sub-plan (`Filter: (a < t.a)`, not `$1`).
    fn collect_subplans(&mut self, e: &Expr, names: &[String], out: &mut Vec<usize>) {
        let mut calls = Vec::new();
        e.walk(&mut |x| {
            if let Expr::SubPlan { id, args, .. } = x {
                calls.push((*id, args.clone()));
            }
        });
        for (id, args) in calls {
            if !out.contains(&id) {
                out.push(id);
            }
            let Some(def) = self.q.subplans.get(id) else { continue };
            for (arg, &param) in args.iter().zip(&def.param_ids) {
                if !self.param_names.contains_key(&param) {
                    let text = self.deparse(arg, names);
                    self.param_names.insert(param, text);
                }
            }
        }
    }

    /// The sub-plans a node's own expressions call.
    fn collect_node_subplans(&mut self, p: &Plan, out: &mut Vec<usize>) {
        let exprs: Vec<&Expr> = match &p.node {
            Node::ForeignScan(s) => s.filter.iter().collect(),
            Node::Values { rows } => rows.iter().flatten().collect(),
            Node::NestedLoop { qual, .. } | Node::HashJoin { qual, .. } | Node::MergeJoin { qual, .. } => {
                qual.iter().collect()
            }
            Node::Aggregate { aggs, group_by, .. } => {
                group_by.iter().chain(aggs.iter().flat_map(|a| a.args.iter())).collect()
            }
            _ => Vec::new(),
        };
        if !exprs.iter().any(|e| e.has_subplan()) {
            return;
        }
        // The columns the expressions are over.
        let names = match &p.node {
            Node::ForeignScan(_) => self.names(p),
            Node::NestedLoop { outer, inner, .. }
            | Node::HashJoin { outer, inner, .. }
            | Node::MergeJoin { outer, inner, .. } => {
                let mut names = self.names(outer);
                names.extend(self.names(inner));
                names
            }
            Node::Aggregate { input, .. } => self.names(input),
            _ => Vec::new(),
        };
        for e in exprs {
            self.collect_subplans(e, &names, out);
        }
    }

    /// Replaces `$n` in a wrapper's text by the outer expression of nested-loop parameter
    /// `n - 1`, where one is known.
    fn substitute_params(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '$' {
                let start = i + 1;
                let mut end = start;
                while let Some((j, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        end = j + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                if end > start {
                    let n: usize = text[start..end].parse().unwrap_or(0);
                    match n.checked_sub(1).and_then(|p| self.param_names.get(&p)) {
                        Some(name) => out.push_str(name),
                        None => out.push_str(&text[i..end]),
                    }
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    fn sort_key(&self, k: &SortKey, names: &[String]) -> String {
        let mut s = self.deparse(&k.expr, names);
        if k.descending {
            s.push_str(" DESC");
            if !k.nulls_first {
                s.push_str(" NULLS LAST");
            }
        } else if k.nulls_first {
            s.push_str(" NULLS FIRST");
        }
        s
    }

    /// Node name and detail lines.
    fn describe(&self, p: &Plan) -> (String, Vec<String>) {
        let mut d = Vec::new();
        let name = match &p.node {
            Node::ForeignScan(s) => {
                let label = s.request.path.label.clone().unwrap_or_else(|| "Foreign Scan".into());
                let mut name =
                    if s.relation.is_empty() { label.clone() } else { format!("{} on {}", label, s.relation) };
                if let Some(a) = &s.alias {
                    if a != &s.relation {
                        let _ = write!(name, " {}", a);
                    }
                }
                let table_names: Vec<String> = {
                    let q = s.alias.clone().unwrap_or_else(|| s.relation.clone());
                    s.request.table.columns.iter().map(|c| self.qualified(&q, &c.name)).collect()
                };
                // A wrapper that describes its own conditions (Index Cond, Remote SQL) is
                // trusted to; otherwise the pushed quals are listed here.
                let own = s.wrapper.explain_scan(&s.request, self.opts.verbose);
                let conds: Vec<&Expr> = s.request.param_quals.iter().chain(&s.request.quals).collect();
                let describes =
                    own.iter().any(|(k, _)| k.contains("Cond") || k.contains("Filter") || k == "Remote SQL");
                if !describes && !conds.is_empty() {
                    let parts: Vec<String> = conds.iter().map(|q| self.deparse_top(q, &table_names)).collect();
                    d.push(format!("Pushed Filter: {}", wrap_and(&parts)));
                }
                if let Some(f) = &s.filter {
                    let names = self.names(p);
                    d.push(format!("Filter: {}", self.deparse_top(f, &names)));
                }
                for (k, v) in own {
                    d.push(format!("{}: {}", k, self.substitute_params(&v)));
                }
                name
            }
            // PostgreSQL makes a single row (a SELECT without FROM, one VALUES row) a Result.
            Node::Values { rows } if rows.len() == 1 => "Result".to_string(),
            Node::Values { .. } => "Values Scan on \"*VALUES*\"".to_string(),
            Node::NestedLoop { outer, inner, join_type, qual, .. } => {
                if let Some(q) = qual {
                    let mut names = self.names(outer);
                    names.extend(self.names(inner));
                    d.push(format!("Join Filter: {}", self.deparse_top(q, &names)));
                }
                join_name("Nested Loop", *join_type)
            }
            Node::HashJoin { outer, inner, join_type, outer_keys, inner_keys, qual, build_outer } => {
                let sides = (outer.as_ref(), inner.as_ref());
                self.keyed_join_details(&mut d, "Hash", sides, (outer_keys, inner_keys), qual.as_ref(), *build_outer);
                if *build_outer {
                    // As PostgreSQL 18 names it: the streamed (inner) side is shown first.
                    format!("Hash Right {} Join", join_type.explain_name())
                } else {
                    join_name("Hash", *join_type)
                }
            }
            Node::MergeJoin { outer, inner, join_type, outer_keys, inner_keys, qual } => {
                let sides = (outer.as_ref(), inner.as_ref());
                self.keyed_join_details(&mut d, "Merge", sides, (outer_keys, inner_keys), qual.as_ref(), false);
                join_name("Merge", *join_type)
            }
            Node::Sort { input, keys } => {
                let names = self.names(input);
                let k: Vec<String> = keys.iter().map(|k| self.sort_key(k, &names)).collect();
                d.push(format!("Sort Key: {}", k.join(", ")));
                "Sort".into()
            }
            Node::TopN { .. } | Node::Limit { .. } => "Limit".into(),
            Node::Aggregate { input, strategy, group_by, .. } => {
                let names = self.names(input);
                if !group_by.is_empty() {
                    let g: Vec<String> = group_by.iter().map(|g| self.deparse(g, &names)).collect();
                    d.push(format!("Group Key: {}", g.join(", ")));
                }
                match strategy {
                    AggStrategy::Plain => "Aggregate".into(),
                    AggStrategy::Hashed => "HashAggregate".into(),
                    AggStrategy::Sorted => "GroupAggregate".into(),
                }
            }
            Node::Distinct { input, sorted } => {
                let names = self.names(input);
                d.push(format!("Group Key: {}", names.join(", ")));
                if *sorted {
                    "Unique".into()
                } else {
                    "HashAggregate".into()
                }
            }
            Node::SetOp { kind, all, .. } => {
                let k = match kind {
                    SetOpKind::Union => "Union",
                    SetOpKind::Intersect => "Intersect",
                    SetOpKind::Except => "Except",
                };
                format!("HashSetOp {}{}", k, if *all { " All" } else { "" })
            }
            Node::Append { .. } => "Append".into(),
            Node::RecursiveUnion { .. } => "Recursive Union".into(),
            Node::WorkTableScan { .. } => "WorkTable Scan".into(),
            Node::Materialize { .. } => "Materialize".into(),
            Node::Modify(m) => {
                let verb = match m.kind {
                    fdw_api::ModifyKind::Insert => "Insert",
                    fdw_api::ModifyKind::Update => "Update",
                    fdw_api::ModifyKind::Delete => "Delete",
                };
                format!("{} on {}", verb, self.modified_relation(m))
            }
            Node::Project { .. } | Node::Filter { .. } => "Result".into(),
        };
        (name, d)
    }

    /// `Hash Cond:`/`Merge Cond:` and `Join Filter:` lines of a join on equal keys.
    /// `Hash Cond`/`Merge Cond` and the join filter. With `inner_first` (the inner side is the
    /// one streamed and shown first) each condition is written from the inner side; the
    /// join filter is over outer ++ inner either way.
    fn keyed_join_details(
        &self,
        d: &mut Vec<String>,
        label: &str,
        (outer, inner): (&Plan, &Plan),
        (outer_keys, inner_keys): (&[Expr], &[Expr]),
        qual: Option<&Expr>,
        inner_first: bool,
    ) {
        let (on, inn) = (self.names(outer), self.names(inner));
        let conds: Vec<String> = outer_keys
            .iter()
            .zip(inner_keys)
            .map(|(a, b)| {
                let (a, b) = (self.deparse(a, &on), self.deparse(b, &inn));
                if inner_first {
                    format!("({b} = {a})")
                } else {
                    format!("({a} = {b})")
                }
            })
            .collect();
        d.push(format!("{label} Cond: {}", wrap_and(&conds)));
        if let Some(q) = qual {
            let mut names = on;
            names.extend(inn);
            d.push(format!("Join Filter: {}", self.deparse_top(q, &names)));
        }
    }

    /// A top-level qual: PostgreSQL prints it with outer parentheses.
    fn deparse_top(&self, e: &Expr, names: &[String]) -> String {
        let s = self.deparse(e, names);
        if s.starts_with('(') && balanced_outer(&s) {
            s
        } else {
            format!("({s})")
        }
    }

    fn deparse(&self, e: &Expr, names: &[String]) -> String {
        match e {
            Expr::Column { index, .. } => names.get(*index).cloned().unwrap_or_else(|| format!("${index}")),
            Expr::Const { value, ty } => deparse_const(value, ty),
            Expr::Param { index, .. } => {
                self.param_names.get(index).cloned().unwrap_or_else(|| format!("${}", index + 1))
            }
            Expr::Binary { op: op @ (BinaryOp::And | BinaryOp::Or), .. } => {
                let mut parts = Vec::new();
                flatten(e, *op, &mut parts);
                let ps: Vec<String> = parts.iter().map(|p| self.deparse_top(p, names)).collect();
                format!("({})", ps.join(if *op == BinaryOp::And { " AND " } else { " OR " }))
            }
            Expr::Binary { op, left, right, .. } => {
                format!("({} {} {})", self.deparse(left, names), op.sql(), self.deparse(right, names))
            }
            Expr::Unary { op, expr, .. } => {
                let x = self.deparse(expr, names);
                match op {
                    UnaryOp::Not => format!("(NOT {x})"),
                    UnaryOp::Neg => format!("(- {x})"),
                    UnaryOp::IsNull => format!("({x} IS NULL)"),
                    UnaryOp::IsNotNull => format!("({x} IS NOT NULL)"),
                    UnaryOp::IsTrue => format!("({x} IS TRUE)"),
                    UnaryOp::IsNotTrue => format!("({x} IS NOT TRUE)"),
                    UnaryOp::IsFalse => format!("({x} IS FALSE)"),
                    UnaryOp::IsNotFalse => format!("({x} IS NOT FALSE)"),
                }
            }
            Expr::Func { func, args, .. } => {
                let a: Vec<String> = args.iter().map(|x| self.deparse(x, names)).collect();
                format!("{}({})", func_name(*func), a.join(", "))
            }
            Expr::Cast { expr, ty } => format!("({})::{}", self.deparse(expr, names), ty.sql_name()),
            Expr::Case { whens, else_expr, .. } => {
                let mut s = String::from("CASE");
                for (w, t) in whens {
                    let _ = write!(s, " WHEN {} THEN {}", self.deparse(w, names), self.deparse(t, names));
                }
                if let Some(e) = else_expr {
                    let _ = write!(s, " ELSE {}", self.deparse(e, names));
                }
                s.push_str(" END");
                s
            }
            Expr::Coalesce { args, .. } => {
                let a: Vec<String> = args.iter().map(|x| self.deparse(x, names)).collect();
                format!("COALESCE({})", a.join(", "))
            }
            Expr::NullIf { left, right, .. } => {
                format!("NULLIF({}, {})", self.deparse(left, names), self.deparse(right, names))
            }
            Expr::InList { expr, list, negated } => {
                let items: Vec<String> = list
                    .iter()
                    .map(|x| match x {
                        Expr::Const { value, .. } => value.to_text(),
                        other => self.deparse(other, names),
                    })
                    .collect();
                let ty = list.first().map(|x| x.data_type()).unwrap_or(DataType::Text);
                format!(
                    "({} {} ('{{{}}}'::{}[]))",
                    self.deparse(expr, names),
                    if *negated { "<> ALL" } else { "= ANY" },
                    items.join(","),
                    ty.sql_name()
                )
            }
            Expr::Like { expr, pattern, negated, case_insensitive, .. } => {
                let op = match (negated, case_insensitive) {
                    (false, false) => "~~",
                    (true, false) => "!~~",
                    (false, true) => "~~*",
                    (true, true) => "!~~*",
                };
                format!("({} {} {})", self.deparse(expr, names), op, self.deparse(pattern, names))
            }
            Expr::SubPlan { id, kind, lhs, .. } => {
                // An InitPlan's value is its output parameter, `$n` in PostgreSQL 15's EXPLAIN
                // (`InitPlan 1 (returns $0)` above it).
                let init = self.q.subplans.get(*id).is_some_and(|s| !s.correlated);
                match kind {
                    SubLinkKind::Scalar | SubLinkKind::Exists if init => format!("${id}"),
                    SubLinkKind::Scalar | SubLinkKind::Exists => format!("(SubPlan {})", id + 1),
                    SubLinkKind::Any | SubLinkKind::All => {
                        let l = lhs.as_ref().map(|x| self.deparse(x, names)).unwrap_or_default();
                        format!(
                            "({} {} (SubPlan {}))",
                            l,
                            if *kind == SubLinkKind::Any { "= ANY" } else { "ALL" },
                            id + 1
                        )
                    }
                }
            }
        }
    }
}

fn wrap_and(conds: &[String]) -> String {
    if conds.len() == 1 {
        conds[0].clone()
    } else {
        format!("({})", conds.join(" AND "))
    }
}

fn join_name(base: &str, jt: JoinType) -> String {
    match jt {
        JoinType::Inner => {
            if base == "Nested Loop" {
                base.into()
            } else {
                format!("{base} Join")
            }
        }
        other => {
            if base == "Nested Loop" {
                format!("Nested Loop {} Join", other.explain_name())
            } else {
                format!("{base} {} Join", other.explain_name())
            }
        }
    }
}

fn flatten<'e>(e: &'e Expr, op: BinaryOp, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary { op: o, left, right, .. } if *o == op => {
            flatten(left, op, out);
            flatten(right, op, out);
        }
        other => out.push(other),
    }
}

fn balanced_outer(s: &str) -> bool {
    // True when the first '(' closes at the very end.
    let mut depth = 0i32;
    let mut in_str = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 && i != s.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

fn deparse_const(v: &Datum, ty: &DataType) -> String {
    match v {
        Datum::Null => "NULL".into(),
        Datum::Int4(x) => x.to_string(),
        Datum::Int8(x) => x.to_string(),
        Datum::Bool(b) => b.to_string(),
        Datum::Numeric(n) if !n.is_sign_negative() => n.to_string(),
        _ => {
            let t = v.to_text().replace('\'', "''");
            format!("'{}'::{}", t, ty.sql_name())
        }
    }
}

fn func_name(f: ScalarFunc) -> String {
    let s = format!("{f:?}");
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    match out.as_str() {
        "b_trim" => "btrim".into(),
        "l_trim" => "ltrim".into(),
        "r_trim" => "rtrim".into(),
        "str_pos" => "strpos".into(),
        "md5" => "md5".into(),
        other => other.to_string(),
    }
}
