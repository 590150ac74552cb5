"""The edge-of-stability study (docs/math.md sections 3 to 6)."""

from ._converge import limit_sharpness
from ._gfs import gfs_sharpness, gfs_solution
from ._offset import eos_start, fit_offset, limit_offset, offset_formula

__all__ = ["gfs_sharpness", "gfs_solution", "limit_sharpness", "eos_start", "limit_offset",
           "fit_offset", "offset_formula"]
from ._kreisler import (RunClass, gfs_trajectory, kreisler_scan,  # noqa: E402
                        qr2d_increase_threshold)

__all__ += ["gfs_trajectory", "kreisler_scan", "qr2d_increase_threshold", "RunClass"]
from ._constrained import (constrained_trajectory, edge_geometry,  # noqa: E402
                           project_stable_set, third_derivative)
from ._self_stabilisation import (predicted_dynamics, self_stabilisation,  # noqa: E402
                                  self_stabilisation_coefficients, self_stabilisation_tracking,
                                  sharpness_gradient)

__all__ += ["predicted_dynamics", "self_stabilisation", "self_stabilisation_coefficients",
            "sharpness_gradient", "self_stabilisation_tracking", "constrained_trajectory",
            "edge_geometry", "project_stable_set", "third_derivative"]
from ._theorem2 import (expected_second_derivative, ntk_eigenvalue_derivatives,  # noqa: E402
                        sigma_q_for, theorem2_monte_carlo)

__all__ += ["expected_second_derivative", "ntk_eigenvalue_derivatives", "sigma_q_for",
            "theorem2_monte_carlo"]
from ._critical import eos_critical_eps, offset_root_eps, proved_critical_eps  # noqa: E402
from ._maxbox import largest_box  # noqa: E402
from ._region import Box, EoSRegion, default_region_grid, eos_region  # noqa: E402

__all__ += ["eos_region", "eos_critical_eps", "EoSRegion", "Box", "largest_box",
            "default_region_grid"]
from ._damian import (TrackingStatus, edge_quantities, project_authors,  # noqa: E402
                      stable_set_tracking)

__all__ += ["edge_quantities", "project_authors", "stable_set_tracking", "TrackingStatus"]
from ._certify import Certificate, certify_region  # noqa: E402
from ._verify import Verification, verify_certificate  # noqa: E402

__all__ += ["certify_region", "Certificate", "verify_certificate", "Verification"]
__all__ += ["offset_root_eps", "proved_critical_eps"]
from ._central_flow import FlowPhase, FlowStatus, central_flow  # noqa: E402

__all__ += ["central_flow", "FlowStatus", "FlowPhase"]
