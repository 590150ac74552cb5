"""The result of a continuation: branches, special points, branch switching, the graph."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models._base import RegressionModel
from . import _continuation as cont
from ._normal_form import flip_coefficients
from ._special_points import KINDS

_STATE_LONG_NAME = {"theta": "parameters", "x": "state"}


class UnknownPointError(KeyError, ValueError):
    """No special point of that label (a KeyError for lookups, a ValueError for arguments)."""


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
    graph : networkx.DiGraph
        Nodes ``branch0``, ``branch1``, ... and the special-point labels; edges from each branch
        to the special points on it and from a special point to the branch switched from it.
    """

    def __init__(self, mapping, model, param, bounds, options):
        self.map = mapping
        self.model = model
        self.param = param
        self.bounds = bounds
        self.options = options
        self._branches: list[cont.Branch] = []
        self._points: list[dict] = []
        self._edges: list[tuple[str, str, str]] = []

    # -- building -----------------------------------------------------------------------------
    def _add_branch(self, problem, U, T, *, parent, ends, skip):
        U, T, found = cont.detect(problem, U, T, skip=skip, tol=min(self.options.tol, 1e-12))
        index = len(self._branches)
        self._branches.append(cont.Branch(problem, U, T, parent, ends))
        name = f"branch{index}"
        if parent is not None:
            self._edges.append((parent, name, "switch"))
        counts = {k: sum(p["kind"] == k for p in self._points) for k in KINDS}
        for position, kind, u, t in found:
            counts[kind] += 1
            label = f"{kind}{counts[kind]}"
            x, mu, p = problem.split(u)
            record = {"label": label, "kind": kind, "branch": index, "index": position,
                      "u": u, "t": t, "period": problem.period,
                      "multipliers": problem.multipliers(u), "normal_form": np.nan,
                      "rate": np.nan, "drift": np.nan, "criticality": "", "eigenvector": None}
            if kind == "PD":
                coefficients = flip_coefficients(problem, x, p)
                record.update({k: coefficients[k] for k in
                               ("normal_form", "rate", "drift", "criticality", "eigenvector")})
            self._points.append(record)
            self._edges.append((name, label, "contains"))

    def _copy(self) -> ContinuationResult:
        new = copy.copy(self)
        new._branches = list(self._branches)
        new._points = list(self._points)
        new._edges = list(self._edges)
        return new

    # -- access -------------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """The labels of the special points, in order of discovery."""
        return [p["label"] for p in self._points]

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

    # -- switching ----------------------------------------------------------------------------
    def switch(self, point, *, bounds=None, **options) -> ContinuationResult:
        """Return a new result extended by the branch that emanates from ``point``: the
        period-doubled cycle at a PD point, the crossing branch at a BP.

        ``point`` is a label (``"PD1"``) or a row of :attr:`special_points`. ``bounds`` and the
        step-size options of :func:`dynsys.continuation` (``step``, ``min_step``,
        ``max_step``, ``max_points``, ``tol``, ``max_state``) may be overridden.

        Examples
        --------
        >>> import dynsys
        >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
        ...                           bounds=(2.5, 3.5)).switch("PD1")
        >>> float(res["PD2"].r.round(10))        # 1 + sqrt(6)
        3.4494897428
        """
        record = self._record(point)
        fields = {f.name for f in dataclasses.fields(self.options)}
        unknown = set(options) - fields
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(fields)}")
        options = {k: check.integer(k, v, minimum=2) if k == "max_points"
                   else check.real(k, v, positive=True) for k, v in options.items()}
        opts = dataclasses.replace(self.options, **options)
        if bounds is not None:
            b = check.bounds("bounds", bounds, 1)[0]
            bounds = (float(b[0]), float(b[1]))
        else:
            bounds = self.bounds
        branch = self._branches[record["branch"]]
        if record["kind"] == "PD":
            problem, U, T, ends, skip = cont.switch_at_flip(
                branch.problem, record["u"], opts, bounds,
                {"eigenvector": record["eigenvector"]})
        elif record["kind"] == "BP":
            problem, U, T, ends, skip = cont.switch_at_branch_point(
                branch.problem, record["u"], record["t"], opts, bounds)
        else:
            raise ValueError(f"cannot switch branches at {record['label']} (kind "
                             f"{record['kind']}): switching is defined at PD and BP points")
        new = self._copy()
        new.bounds = bounds
        new._add_branch(problem, U, T, parent=record["label"], ends=ends, skip=skip)
        new.bounds = self.bounds
        return new

    # -- xarray views ---------------------------------------------------------------------------
    @property
    def _state_name(self) -> str:
        return "theta" if self.model is not None else "x"

    def _labels_for(self, n) -> list[str]:
        return [f"{self._state_name}_{i + 1}" for i in range(n)]

    def _provenance(self, **extra) -> dict:
        system = self.model if self.model is not None else self.map
        attrs = provenance(system, analysis="continuation", param=self.param,
                           bounds=np.asarray(self.bounds, dtype=float), **extra)
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
            state: (("s", "param"), X, {"long_name": _STATE_LONG_NAME[state]}),
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
                if isinstance(self.model, RegressionModel):
                    data["ntk_eigenvalue"] = (("s",), self.model.ntk_eigenvalue(X),
                                              {"long_name": "top NTK eigenvalue"})
        ds = xr.Dataset(data, coords={"s": s, "param": self._labels_for(n),
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
            state: (("point", "param"),
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
                                      "param": self._labels_for(n),
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
