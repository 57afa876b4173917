//! A compact layered (Sugiyama-style) layout for directed graphs, left to right.
//!
//! Steps: break cycles by reversing the back edges of a depth-first search (in input order, so
//! the result is deterministic); assign layers by longest path from the sources; split edges that
//! span several layers with dummy points; reduce crossings with barycenter sweeps (down and up,
//! keeping the best order seen); then place nodes: x by layer (column widths from the widest
//! label), y by an averaging of neighbour positions that keeps the order and a minimum gap.
//!
//! Why not a crate: `layout-rs` lays out Graphviz-like graphs and writes its own SVG, but its
//! output cannot carry our classes (cycle highlighting, tooltips) without re-parsing, and its
//! cost on 1,000-node inputs is not bounded. The callers cap what they draw (see
//! [`crate::html`]); this layout is quadratic at worst in the nodes of one layer.

/// Node sizes and spacing.
#[derive(Debug, Clone, Copy)]
pub struct Spacing {
    /// Horizontal gap between columns (layers).
    pub layer_gap: f64,
    /// Vertical gap between nodes of one column.
    pub node_gap: f64,
    /// Height of a node box.
    pub node_height: f64,
    /// Margin around the drawing.
    pub margin: f64,
}

impl Default for Spacing {
    fn default() -> Self {
        Spacing {
            layer_gap: 90.0,
            node_gap: 22.0,
            node_height: 30.0,
            margin: 20.0,
        }
    }
}

/// A node placed: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// Layer (column) index.
    pub layer: usize,
}

/// The result: node boxes in input order, one polyline per input edge, and the canvas size.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// One box per input node.
    pub nodes: Vec<Placed>,
    /// One polyline per input edge, from the `from` box's border to the `to` box's border; a
    /// self-loop gets an empty polyline.
    pub edges: Vec<Vec<(f64, f64)>>,
    /// Canvas width.
    pub width: f64,
    /// Canvas height.
    pub height: f64,
}

/// Lays out `widths.len()` nodes (each `widths[i]` wide) and the `edges` between them (indices).
///
/// Weakly connected components are laid out one by one and stacked, largest first.
pub fn layout(widths: &[f64], edges: &[(usize, usize)], sp: Spacing) -> Layout {
    let n = widths.len();
    // Components by union-find; the component of a node is named by its smallest member.
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut v: usize) -> usize {
        while p[v] != v {
            p[v] = p[p[v]];
            v = p[v];
        }
        v
    }
    for &(a, b) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut comps: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for v in 0..n {
        let r = find(&mut parent, v);
        comps.entry(r).or_default().push(v);
    }
    if comps.len() <= 1 {
        return layout_connected(widths, edges, sp);
    }
    let mut comps: Vec<Vec<usize>> = comps.into_values().collect();
    comps.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let mut local = vec![0usize; n];
    let mut comp_of = vec![0usize; n];
    for (c, members) in comps.iter().enumerate() {
        for (i, &v) in members.iter().enumerate() {
            local[v] = i;
            comp_of[v] = c;
        }
    }
    let mut result = Layout {
        nodes: vec![
            Placed {
                x: 0.0,
                y: 0.0,
                width: 0.0,
                height: 0.0,
                layer: 0
            };
            n
        ],
        edges: vec![Vec::new(); edges.len()],
        width: 0.0,
        height: sp.margin,
    };
    for (c, members) in comps.iter().enumerate() {
        let w: Vec<f64> = members.iter().map(|&v| widths[v]).collect();
        let idx: Vec<usize> = (0..edges.len())
            .filter(|&e| comp_of[edges[e].0] == c)
            .collect();
        let e: Vec<(usize, usize)> = idx
            .iter()
            .map(|&i| (local[edges[i].0], local[edges[i].1]))
            .collect();
        let sub = layout_connected(&w, &e, sp);
        // The sub-layout has its own margins: shift it so that its top margin overlaps ours.
        let dy = result.height - sp.margin;
        for (i, &v) in members.iter().enumerate() {
            let mut p = sub.nodes[i];
            p.y += dy;
            result.nodes[v] = p;
        }
        for (k, &i) in idx.iter().enumerate() {
            result.edges[i] = sub.edges[k].iter().map(|&(x, y)| (x, y + dy)).collect();
        }
        result.width = result.width.max(sub.width);
        result.height = dy + sub.height;
    }
    result
}

/// [`layout`] of one weakly connected graph.
fn layout_connected(widths: &[f64], edges: &[(usize, usize)], sp: Spacing) -> Layout {
    let n = widths.len();
    if n == 0 {
        return Layout {
            nodes: vec![],
            edges: vec![Vec::new(); edges.len()],
            width: 2.0 * sp.margin,
            height: 2.0 * sp.margin,
        };
    }
    // 1. Cycle breaking: an edge to a node on the DFS stack is reversed.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, &(a, b)) in edges.iter().enumerate() {
        if a != b {
            out[a].push(i);
        }
    }
    let mut reversed = vec![false; edges.len()];
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let v = top.0;
            if top.1 < out[v].len() {
                let e = out[v][top.1];
                top.1 += 1;
                let w = edges[e].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    // The acyclic edge list (duplicates kept: they share a route).
    let dag: Vec<(usize, usize)> = edges
        .iter()
        .zip(&reversed)
        .map(|(&(a, b), &r)| if r { (b, a) } else { (a, b) })
        .collect();

    // 2. Layering: longest path from the sources (Kahn order).
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        if a != b {
            indeg[b] += 1;
            succ[a].push(b);
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    let layers_n = layer.iter().max().map_or(1, |m| m + 1);

    // 3. Dummy points: vertex ids >= n are dummies; `chains[e]` lists the vertices of edge e
    // from its DAG source to its DAG target.
    let mut vlayer = layer.clone();
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(dag.len());
    let mut vedges: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in &dag {
        if a == b {
            chains.push(vec![a]);
            continue;
        }
        let mut chain = vec![a];
        let mut prev = a;
        for l in layer[a] + 1..layer[b] {
            let d = vlayer.len();
            vlayer.push(l);
            vedges.push((prev, d));
            chain.push(d);
            prev = d;
        }
        vedges.push((prev, b));
        chain.push(b);
        chains.push(chain);
    }
    let vn = vlayer.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); vn];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); vn];
    for &(a, b) in &vedges {
        succs[a].push(b);
        preds[b].push(a);
    }

    // 4. Crossing reduction.
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers_n];
    for v in 0..vn {
        order[vlayer[v]].push(v);
    }
    let mut pos = vec![0usize; vn];
    let index = |order: &[Vec<usize>], pos: &mut [usize]| {
        for l in order {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    index(&order, &mut pos);
    let mut best = order.clone();
    let mut best_crossings = crossings(&order, &succs, &pos);
    for round in 0..12 {
        let down = round % 2 == 0;
        let range: Vec<usize> = if down {
            (1..layers_n).collect()
        } else {
            (0..layers_n.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nbrs = if down { &preds } else { &succs };
            let mut keyed: Vec<(f64, usize, usize)> = order[l]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ns = &nbrs[v];
                    let bary = if ns.is_empty() {
                        i as f64
                    } else {
                        ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (bary, i, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            order[l] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in order[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(&order, &succs, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = order.clone();
        }
    }
    let order = best;
    index(&order, &mut pos);

    // 5. Coordinates. Dummies are thin; columns are as wide as their widest node.
    let vwidth = |v: usize| if v < n { widths[v] } else { 0.0 };
    let vheight = |v: usize| if v < n { sp.node_height } else { 4.0 };
    let mut col_x = vec![sp.margin; layers_n];
    let mut col_w = vec![0.0f64; layers_n];
    for v in 0..vn {
        col_w[vlayer[v]] = col_w[vlayer[v]].max(vwidth(v));
    }
    for l in 1..layers_n {
        col_x[l] = col_x[l - 1] + col_w[l - 1] + sp.layer_gap;
    }
    // Initial y: stacked; then a few passes pull each node towards its neighbours' mean.
    let mut y = vec![0.0f64; vn];
    for l in &order {
        let mut cur = sp.margin;
        for &v in l {
            y[v] = cur;
            cur += vheight(v) + sp.node_gap;
        }
    }
    let centre = |y: &[f64], v: usize| y[v] + vheight(v) / 2.0;
    for round in 0..8 {
        let down = round % 2 == 0;
        let range: Vec<usize> = if down {
            (1..layers_n).collect()
        } else {
            (0..layers_n.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nbrs = if down { &preds } else { &succs };
            let want: Vec<f64> = order[l]
                .iter()
                .map(|&v| {
                    let ns = &nbrs[v];
                    if ns.is_empty() {
                        y[v]
                    } else {
                        ns.iter().map(|&u| centre(&y, u)).sum::<f64>() / ns.len() as f64
                            - vheight(v) / 2.0
                    }
                })
                .collect();
            // Keep the order and the gap: forward pass pushes down, backward pass pulls up
            // towards the wanted positions without overlapping.
            let l_ord = &order[l];
            let mut placed = want.clone();
            for i in 0..l_ord.len() {
                let min = if i == 0 {
                    sp.margin
                } else {
                    placed[i - 1] + vheight(l_ord[i - 1]) + sp.node_gap
                };
                placed[i] = placed[i].max(min);
            }
            for i in (0..l_ord.len().saturating_sub(1)).rev() {
                let max = placed[i + 1] - vheight(l_ord[i]) - sp.node_gap;
                placed[i] = placed[i].min(max).max(if i == 0 {
                    sp.margin
                } else {
                    placed[i - 1] + vheight(l_ord[i - 1]) + sp.node_gap
                });
            }
            for (i, &v) in l_ord.iter().enumerate() {
                y[v] = placed[i];
            }
        }
    }
    let top = y.iter().copied().fold(f64::INFINITY, f64::min);
    let shift = sp.margin - top;
    for v in &mut y {
        *v += shift;
    }
    let nodes: Vec<Placed> = (0..n)
        .map(|v| Placed {
            x: col_x[vlayer[v]] + (col_w[vlayer[v]] - widths[v]) / 2.0,
            y: y[v],
            width: widths[v],
            height: sp.node_height,
            layer: vlayer[v],
        })
        .collect();
    let vx = |v: usize| col_x[vlayer[v]] + col_w[vlayer[v]] / 2.0;
    let routes: Vec<Vec<(f64, f64)>> = chains
        .iter()
        .zip(&reversed)
        .map(|(chain, &rev)| {
            if chain.len() < 2 {
                return Vec::new();
            }
            let (first, last) = (chain[0], chain[chain.len() - 1]);
            let mut pts = vec![(
                nodes[first].x + nodes[first].width,
                nodes[first].y + nodes[first].height / 2.0,
            )];
            for &d in &chain[1..chain.len() - 1] {
                pts.push((vx(d), y[d] + 2.0));
            }
            pts.push((nodes[last].x, nodes[last].y + nodes[last].height / 2.0));
            if rev && pts.len() == 2 {
                // Bend a reversed edge between neighbouring columns away from its twin.
                let (a, b) = (pts[0], pts[1]);
                pts.insert(1, ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0 + 14.0));
            }
            if rev {
                pts.reverse();
            }
            pts
        })
        .collect();
    let width = col_x[layers_n - 1] + col_w[layers_n - 1] + sp.margin;
    let height = (0..vn).map(|v| y[v] + vheight(v)).fold(0.0f64, f64::max) + sp.margin;
    Layout {
        nodes,
        edges: routes,
        width,
        height,
    }
}

/// Edge crossings between adjacent layers (each pair of segments counted once).
fn crossings(order: &[Vec<usize>], succs: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for l in order {
        let segs: Vec<(usize, usize)> = l
            .iter()
            .flat_map(|&v| succs[v].iter().map(move |&w| (pos[v], pos[w])))
            .collect();
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                let (a, b) = (segs[i], segs[j]);
                if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                    total += 1;
                }
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlaps(a: &Placed, b: &Placed) -> bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    #[test]
    fn a_cycle_gets_layers_and_routes() {
        let l = layout(
            &[60.0, 60.0, 60.0],
            &[(0, 1), (1, 2), (2, 0)],
            Spacing::default(),
        );
        let layers: Vec<usize> = l.nodes.iter().map(|p| p.layer).collect();
        assert_eq!(layers, vec![0, 1, 2]);
        // The closing edge 2 → 0 is routed back through a dummy point, from 2 to 0.
        assert_eq!(l.edges[2].len(), 3);
        assert_eq!(l.edges[2][0].0, l.nodes[2].x);
        assert_eq!(l.edges[2][2].0, l.nodes[0].x + 60.0);
    }

    #[test]
    fn no_overlaps_and_deterministic() {
        // A wide graph: 40 nodes in a few layers with criss-crossing edges.
        let widths: Vec<f64> = (0..40).map(|i| 40.0 + (i % 7) as f64 * 10.0).collect();
        let edges: Vec<(usize, usize)> = (0..40)
            .flat_map(|i| [(i, (i * 7 + 3) % 40), (i, (i * 13 + 5) % 40)])
            .collect();
        let a = layout(&widths, &edges, Spacing::default());
        let b = layout(&widths, &edges, Spacing::default());
        assert_eq!(a, b);
        for i in 0..40 {
            for j in i + 1..40 {
                assert!(!overlaps(&a.nodes[i], &a.nodes[j]), "{i} and {j} overlap");
            }
            assert!(a.nodes[i].x + a.nodes[i].width <= a.width);
            assert!(a.nodes[i].y + a.nodes[i].height <= a.height);
        }
    }

    #[test]
    fn barycenter_removes_an_avoidable_crossing() {
        // 0 → 3, 1 → 2 in input order would cross if layer 1 kept the order [2, 3].
        let l = layout(&[40.0; 4], &[(0, 3), (1, 2)], Spacing::default());
        let (y2, y3) = (l.nodes[2].y, l.nodes[3].y);
        let (y0, y1) = (l.nodes[0].y, l.nodes[1].y);
        assert_eq!(y0 < y1, y3 < y2);
    }
}
