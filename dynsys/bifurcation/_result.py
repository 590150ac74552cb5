"""The result of a continuation: plain data (branches, special points, graph edges) and its
xarray views.

The result runs no numerics: detection and branch switching live in
``dynsys.bifurcation._continuation``, which builds results and hands each one the
:class:`Extender` that :meth:`ContinuationResult.switch` and :meth:`ContinuationResult.cascade`
delegate to (so this module imports nothing of the algorithms).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from typing import Protocol

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance

_STATE_LONG_NAME = {"theta": "parameters", "x": "state"}
#: The kinds of special points, in the order their labels are numbered.
KINDS = ("PD", "LP", "BP", "NS")


class UnknownPointError(KeyError, ValueError):
    """No special point of that label (a KeyError for lookups, a ValueError for arguments)."""


@dataclasses.dataclass(frozen=True)
class Options:
    """Step-size control and tolerances of a continuation (see :func:`dynsys.continuation`)."""

    step: float
    min_step: float
    max_step: float
    max_points: int
    tol: float
    max_state: float


@dataclasses.dataclass(frozen=True)
class Branch:
    """A traced branch: nodes ``U`` (rows ``u = (x, mu, p)``), unit tangents ``T`` (oriented
    along the branch), its ``problem`` (it knows the period, the family section and how to
    evaluate multipliers), the label of the special point it was switched from, and why each
    end stopped (``start``, ``switch``, ``bounds``, ``max_points``, ``max_state``,
    ``step_underflow``)."""

    problem: object
    U: np.ndarray
    T: np.ndarray
    parent: str | None
    ends: tuple[str, str]


class Extender(Protocol):
    """What a result delegates to when it is extended (implemented by the continuation module).

    An implementer provides:

    1. ``switch(result, record, param_range, options) -> ContinuationResult``: the result with
       the branch that emanates from the special point ``record`` (a dict of
       :attr:`ContinuationResult.points`) appended;
    2. ``cascade(result, record, param_range, options, depth) -> ContinuationResult``: the
       result after switching at ``record`` and then at the next period doubling of each new
       branch, ``depth`` times or until the cascade accumulates.
    """

    def switch(self, result, record, param_range, options): ...

    def cascade(self, result, record, param_range, options, depth): ...


def _deprecated_range(param_range, bounds, where: str):
    """Return the parameter range given as ``param_range`` or (deprecated) ``bounds``."""
    if bounds is not None:
        if param_range is not None:
            raise TypeError(f"{where}: give param_range only (bounds is its deprecated name)")
        warnings.warn(f"{where}: the argument 'bounds' is renamed 'param_range' (the interval "
                      f"of the continued parameter); 'bounds' will be removed in the next "
                      f"release", DeprecationWarning, stacklevel=3)
        return bounds
    return param_range


class ContinuationResult:
    """Branches of fixed points and cycles and their special points (see
    :func:`dynsys.continuation`).

    Attributes
    ----------
    branches : list of xarray.Dataset
        One Dataset per branch along dim ``s`` (arclength), with the parameter (named by
        ``param``), the state (``x``, or ``theta`` for GD maps), ``multipliers`` (complex,
        of ``DF^period``), ``spectral_radius`` and ``stable`` (every multiplier inside the unit
        circle, ignoring the neutral multipliers of a family), ``special`` (the label of the
        special point at that node, else ""); for families also ``unfolding`` (zero on genuine
        fixed points and cycles); for models ``loss``, ``sharpness`` and ``ntk_eigenvalue``.
    special_points : xarray.Dataset
        Over dim ``point`` (labels ``PD1``, ``LP1``, ...): ``kind``, the parameter value, the
        state, ``branch``, ``period``, ``multipliers``, and for PD points ``normal_form``
        (``c``: > 0 supercritical, < 0 subcritical), ``rate``/``drift`` (flip of a curve of
        fixed points) and ``criticality``.
    doublings : xarray.Dataset
        The period-doubling chains followed by :meth:`switch` / :meth:`cascade`, with the
        Feigenbaum ratios of successive intervals.
    graph : networkx.DiGraph
        Nodes ``branch0``, ``branch1``, ... and the special-point labels; edges from each branch
        to the special points on it and from a special point to the branch switched from it.
    param_range : (float, float)
        The interval of the continued parameter.
    """

    def __init__(self, mapping, model, param, param_range, options, *, extender=None,
                 branches=(), points=(), edges=()):
        self.map = mapping
        self.model = model
        self.param = param
        self.param_range = (float(param_range[0]), float(param_range[1]))
        self.options = options
        self._extender = extender
        self._branches: tuple[Branch, ...] = tuple(branches)
        self._points: tuple[dict, ...] = tuple(points)
        self._edges: tuple[tuple[str, str, str], ...] = tuple(edges)

    @property
    def bounds(self):
        """Deprecated name of :attr:`param_range`."""
        warnings.warn("ContinuationResult.bounds is renamed param_range", DeprecationWarning,
                      stacklevel=2)
        return self.param_range

    def extended(self, branch: Branch, points, edges) -> ContinuationResult:
        """Return a new result with ``branch``, the special-point records ``points`` and the
        graph ``edges`` appended (nothing is recomputed)."""
        return ContinuationResult(self.map, self.model, self.param, self.param_range,
                                  self.options, extender=self._extender,
                                  branches=self._branches + (branch,),
                                  points=self._points + tuple(points),
                                  edges=self._edges + tuple(edges))

    # -- access -------------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """The labels of the special points, in order of discovery."""
        return [p["label"] for p in self._points]

    @property
    def points(self) -> tuple[dict, ...]:
        """The special-point records (plain dicts; :attr:`special_points` is their Dataset)."""
        return self._points

    @property
    def raw_branches(self) -> tuple[Branch, ...]:
        """The traced branches as :class:`Branch` records (:attr:`branches` are Datasets)."""
        return self._branches

    def _record(self, point) -> dict:
        if isinstance(point, xr.Dataset) and "point" in point.coords and point.point.ndim == 0:
            point = str(point.point.values)
        if not isinstance(point, str):
            raise TypeError(f"point must be a special-point label such as 'PD1', got "
                            f"{type(point).__name__}")
        for record in self._points:
            if record["label"] == point:
                return record
        raise UnknownPointError(f"no special point {point!r}; the special points are "
                                f"{self.labels}")

    def __getitem__(self, label) -> xr.Dataset:
        """Return the special point ``label`` (e.g. ``"PD1"``) as a one-point Dataset."""
        self._record(label)
        return self.special_points.sel(point=label)

    def __repr__(self) -> str:
        pts = ", ".join(f"{p['label']}@{self.param}={p['u'][-1]:.10g}" for p in self._points)
        return (f"ContinuationResult({self.map.name}, param={self.param!r}, "
                f"{len(self._branches)} branch(es); special points: {pts or 'none'})")

    # -- extending ----------------------------------------------------------------------------
    def _extension_args(self, point, param_range, bounds, options, where):
        record = self._record(point)
        fields = {f.name for f in dataclasses.fields(self.options)}
        unknown = set(options) - fields
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(fields)}")
        options = {k: check.integer(k, v, minimum=2) if k == "max_points"
                   else check.real(k, v, positive=True) for k, v in options.items()}
        opts = dataclasses.replace(self.options, **options)
        param_range = _deprecated_range(param_range, bounds, where)
        if param_range is not None:
            b = check.bounds("param_range", param_range, 1)[0]
            param_range = (float(b[0]), float(b[1]))
        else:
            param_range = self.param_range
        if self._extender is None:
            raise ValueError("this result was not built by dynsys.continuation; it cannot be "
                             "extended")
        return record, param_range, opts

    def switch(self, point, *, param_range=None, bounds=None, **options) -> ContinuationResult:
        """Return a new result extended by the branch that emanates from ``point``: the
        period-doubled cycle at a PD point, the crossing branch at a BP.

        ``point`` is a label (``"PD1"``) or a row of :attr:`special_points`. ``param_range``
        (``bounds`` is its deprecated name) and the step-size options of
        :func:`dynsys.continuation` (``step``, ``min_step``, ``max_step``, ``max_points``,
        ``tol``, ``max_state``) may be overridden. The first step of the new branch is set from
        the branch (at most the distance to the neighbouring special point of the parent
        branch), not from ``param_range``.

        Raises
        ------
        ValueError
            At LP points (there is no other branch) and at NS points: switching onto the
            invariant circle born at a Neimark-Sacker point is not implemented (it is not a
            branch of fixed points; trace it by iterating the map).

        Examples
        --------
        >>> import dynsys
        >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
        ...                           param_range=(2.5, 3.5)).switch("PD1")
        >>> float(res["PD2"].r.round(10))        # 1 + sqrt(6)
        3.4494897428
        """
        record, param_range, opts = self._extension_args(point, param_range, bounds, options,
                                                         "switch")
        return self._extender.switch(self, record, param_range, opts)

    def cascade(self, point="PD1", *, depth: int | None = None, param_range=None,
                **options) -> ContinuationResult:
        """Return a new result after following the period-doubling cascade from ``point``:
        switch at it, then at the nearest period doubling of each new branch, ``depth`` times
        (default: until no doubling is found in ``param_range``, the interval between
        doublings falls below ``1e-6 (1 + |p|)`` or the next cycle would have a period above
        256). :attr:`doublings` gives the chain and its Feigenbaum ratios.

        Examples
        --------
        >>> import dynsys
        >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
        ...                           param_range=(2.5, 3.57)).cascade(depth=4)
        >>> res.doublings.r.values.round(6).tolist()
        [3.0, 3.44949, 3.544090, 3.564407, 3.568759]
        """
        if depth is not None:
            depth = check.integer("depth", depth, minimum=1)
        record, param_range, opts = self._extension_args(point, param_range, None, options,
                                                         "cascade")
        if record["kind"] != "PD":
            raise ValueError(f"a cascade starts at a period-doubling point, not at "
                             f"{record['label']} (kind {record['kind']})")
        return self._extender.cascade(self, record, param_range, opts, depth)

    @property
    def doublings(self) -> xr.Dataset:
        """The longest chain of period doublings ``PD -> branch -> PD -> ...`` (each PD lying on
        the branch switched from the previous one) as an ``xr.Dataset`` over dim ``level``:
        the label, the parameter value, the period of the cycle that doubles, the interval to
        the previous doubling and the Feigenbaum ratio ``(p_k - p_{k-1}) / (p_{k+1} - p_k)``
        (NaN where undefined); attrs give ``feigenbaum_estimate`` (the last ratio) and
        ``accumulation_estimate`` (geometric extrapolation of the last two intervals)."""
        chains = []
        switched = {a: b for a, b, rel in self._edges if rel == "switch"}
        for rec in self._points:
            if rec["kind"] != "PD":
                continue
            chain = [rec]
            while chain[-1]["label"] in switched:
                child = int(switched[chain[-1]["label"]].removeprefix("branch"))
                nxt = [r for r in self._points if r["kind"] == "PD" and r["branch"] == child]
                if not nxt:
                    break
                chain.append(min(nxt, key=lambda r: abs(r["u"][-1] - chain[-1]["u"][-1])))
            chains.append(chain)
        chain = max(chains, key=len) if chains else []
        p = np.array([r["u"][-1] for r in chain], dtype=float)
        interval = np.full(p.size, np.nan)
        interval[1:] = np.diff(p)
        ratio = np.full(p.size, np.nan)
        if p.size >= 3:
            ratio[1:-1] = interval[1:-1] / interval[2:]
        finite = ratio[np.isfinite(ratio)]
        delta = float(finite[-1]) if finite.size else np.nan
        accumulation = (float(p[-1] + interval[-1] / (delta - 1.0)) if np.isfinite(delta)
                        else np.nan)
        ds = xr.Dataset(
            {"label": (("level",), np.array([r["label"] for r in chain], dtype="<U8"),
                       {"long_name": "special point"}),
             self.param: (("level",), p, {"long_name": self._param_long_name(), "units": "1"}),
             "period": (("level",), np.array([r["period"] for r in chain], dtype=np.int64),
                        {"long_name": "period of the cycle that doubles", "units": "1"}),
             "interval": (("level",), interval,
                          {"long_name": "distance to the previous doubling", "units": "1"}),
             "ratio": (("level",), ratio,
                       {"long_name": "Feigenbaum ratio of successive intervals", "units": "1"})},
            coords={"level": np.arange(p.size)})
        ds.attrs.update(self._provenance(feigenbaum_estimate=delta,
                                         accumulation_estimate=accumulation))
        return ds

    # -- xarray views ---------------------------------------------------------------------------
    @property
    def _state_name(self) -> str:
        return "theta" if self.model is not None else "x"

    def _labels_for(self, n) -> list[str]:
        return [f"{self._state_name}_{i + 1}" for i in range(n)]

    def _provenance(self, **extra) -> dict:
        system = self.model if self.model is not None else self.map
        attrs = provenance(system, analysis="continuation", param=self.param,
                           param_range=np.asarray(self.param_range, dtype=float), **extra)
        attrs.pop(f"param_{self.param}", None)
        return attrs

    def _branch_dataset(self, i: int) -> xr.Dataset:
        b = self._branches[i]
        problem = b.problem
        n, m = problem.n, problem.m
        X = b.U[:, :n]
        mu = b.U[:, n: n + m]
        p = b.U[:, -1]
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(b.U, axis=0), axis=1))])
        mult = np.array([problem.multipliers(u) for u in b.U])
        neutral = np.array([problem.neutral(row) for row in mult])
        radius = np.where(neutral, 0.0, np.abs(mult)).max(axis=1) if n > m else np.zeros(len(p))
        special = np.full(len(p), "", dtype="<U8")
        for rec in self._points:
            if rec["branch"] == i:
                special[rec["index"]] = rec["label"]
        state = self._state_name
        data = {
            self.param: (("s",), p, {"long_name": self._param_long_name(), "units": "1"}),
            state: (("s", "component"), X, {"long_name": _STATE_LONG_NAME[state]}),
            "multipliers": (("s", "multiplier"), mult,
                            {"long_name": f"multipliers of DF^{problem.period}"}),
            "spectral_radius": (("s",), radius,
                                {"long_name": "largest |multiplier| (family multipliers "
                                              "excluded)", "units": "1"}),
            "stable": (("s",), radius < 1.0, {"long_name": "linearly stable"}),
            "special": (("s",), special, {"long_name": "special point at this node"}),
        }
        if m:
            data["unfolding"] = (("s", "unfolding_direction"), mu,
                                 {"long_name": "unfolding parameters (0 on genuine fixed "
                                               "points/cycles)"})
            scale = 1.0 + np.max(np.abs(X), axis=1)
            data["genuine"] = (("s",), np.max(np.abs(mu), axis=1) <= 1e-9 * scale,
                               {"long_name": "a genuine fixed point of F^period "
                                             "(unfolding zero)"})
        if self.model is not None:
            with np.errstate(all="ignore"):
                data["loss"] = (("s",), self.model.loss(X), {"long_name": "loss"})
                data["sharpness"] = (("s",), self.model.sharpness(X),
                                     {"long_name": "sharpness (top Hessian eigenvalue)"})
                if getattr(self.model, "ntk_eigenvalue", None) is not None:
                    data["ntk_eigenvalue"] = (("s",), self.model.ntk_eigenvalue(X),
                                              {"long_name": "top NTK eigenvalue"})
        ds = xr.Dataset(data, coords={"s": s, "component": self._labels_for(n),
                                      "multiplier": ("multiplier", np.arange(n),
                                                     {"long_name": "multiplier index"})})
        ds["s"].attrs.update(long_name="arclength", units="1")
        ds.attrs.update(self._provenance(branch=i, period=problem.period,
                                         parent=b.parent or "", family=int(m > 0),
                                         end_start=b.ends[0], end_stop=b.ends[1]))
        return ds

    def _param_long_name(self) -> str:
        return "step size" if self.param == "lr" else f"parameter {self.param}"

    @property
    def branches(self) -> list[xr.Dataset]:
        """The branches, one ``xr.Dataset`` along ``s`` each."""
        return [self._branch_dataset(i) for i in range(len(self._branches))]

    @property
    def special_points(self) -> xr.Dataset:
        """The special points as an ``xr.Dataset`` over dim ``point``."""
        n = self.map.dim
        pts = self._points
        labels = [p["label"] for p in pts]
        state = self._state_name
        s_values = []
        for p in pts:
            U = self._branches[p["branch"]].U
            s_values.append(float(np.sum(np.linalg.norm(np.diff(U[: p["index"] + 1], axis=0),
                                                        axis=1))))
        data = {
            "kind": (("point",), np.array([p["kind"] for p in pts], dtype="<U2"),
                     {"long_name": "kind of special point (PD, LP, BP, NS)"}),
            self.param: (("point",), np.array([p["u"][-1] for p in pts], dtype=float),
                         {"long_name": self._param_long_name(), "units": "1"}),
            state: (("point", "component"),
                    np.array([p["u"][:n] for p in pts], dtype=float).reshape(len(pts), n),
                    {"long_name": _STATE_LONG_NAME[state]}),
            "branch": (("point",), np.array([p["branch"] for p in pts], dtype=np.int64),
                       {"long_name": "index of the branch the point lies on"}),
            "s": (("point",), np.array(s_values, dtype=float),
                  {"long_name": "arclength along its branch", "units": "1"}),
            "period": (("point",), np.array([p["period"] for p in pts], dtype=np.int64),
                       {"long_name": "period of the cycle continued"}),
            "multipliers": (("point", "multiplier"),
                            np.array([p["multipliers"] for p in pts],
                                     dtype=complex).reshape(len(pts), n),
                            {"long_name": "multipliers at the point"}),
            "normal_form": (("point",), np.array([p["normal_form"] for p in pts], dtype=float),
                            {"long_name": "PD normal-form coefficient c (> 0 supercritical)",
                             "units": "1"}),
            "rate": (("point",), np.array([p["rate"] for p in pts], dtype=float),
                     {"long_name": "flip of a curve: alpha in u'' = u + alpha u v"}),
            "drift": (("point",), np.array([p["drift"] for p in pts], dtype=float),
                      {"long_name": "flip of a curve: beta in v'' = v + beta u^2"}),
            "criticality": (("point",),
                            np.array([p["criticality"] for p in pts], dtype="<U13"),
                            {"long_name": "supercritical, subcritical, elliptic, hyperbolic "
                                          "or degenerate (PD points)"}),
        }
        ds = xr.Dataset(data, coords={"point": ("point", np.array(labels, dtype="<U8"),
                                                {"long_name": "special point label"}),
                                      "component": self._labels_for(n),
                                      "multiplier": ("multiplier", np.arange(n),
                                                     {"long_name": "multiplier index"})})
        ds.attrs.update(self._provenance())
        return ds

    @property
    def graph(self):
        """The ``networkx.DiGraph`` of branches and special points."""
        import networkx as nx

        g = nx.DiGraph()
        for i, b in enumerate(self._branches):
            g.add_node(f"branch{i}", type="branch", period=b.problem.period,
                       parent=b.parent or "", n_points=len(b.U))
        for p in self._points:
            g.add_node(p["label"], type="special_point", kind=p["kind"],
                       value=float(p["u"][-1]), period=p["period"])
        for a, b, relation in self._edges:
            g.add_edge(a, b, relation=relation)
        return g

    def to_dataset(self) -> xr.Dataset:
        """Return one serialisable Dataset: every branch node along dim ``node`` (with its
        ``branch`` index) and the special points (variables prefixed ``point_``) along
        ``point``; the graph's edges are stored in the ``graph_edges`` attr (JSON)."""
        parts = []
        for i, ds in enumerate(self.branches):
            d = ds.assign_coords(node=("s", np.arange(ds.sizes["s"]))).swap_dims({"s": "node"})
            d = d.reset_coords("s").drop_vars("node")
            d["branch"] = ("node", np.full(d.sizes["node"], i, dtype=np.int64))
            d.attrs = {}
            parts.append(d)
        nodes = xr.concat(parts, dim="node", data_vars="all", coords="minimal",
                          compat="override", join="outer")
        sp_ds = self.special_points
        sp_ds = sp_ds.rename({v: f"point_{v}" for v in sp_ds.data_vars})
        sp_ds.attrs = {}
        out = xr.merge([nodes, sp_ds], compat="override", join="outer")
        out["s"].attrs.update(long_name="arclength along the branch", units="1")
        out["branch"].attrs.update(long_name="branch index")
        out.attrs.update(self._provenance(
            n_branches=len(self._branches),
            branch_periods=np.array([b.problem.period for b in self._branches],
                                    dtype=np.int64),
            branch_parents=json.dumps([b.parent or "" for b in self._branches]),
            graph_edges=json.dumps(self._edges)))
        return out
