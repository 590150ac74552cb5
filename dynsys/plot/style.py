"""The library's figure style, for scripts that compose figures of their own.

``pyplot()`` returns ``matplotlib.pyplot`` set up as every dynsys figure is (a non-interactive
backend when there is no display, paper-sized fonts, 300 dpi on save); ``finish(fig, path)``
returns ``fig`` after saving it to ``path`` (creating its directory); ``new_axes(None, rows,
cols, columns=1 or 2)`` returns a new figure sized for one column of a paper or its full width
and its flat array of Axes; ``tex(name)`` returns the mathtext label of a name (``theta_1``,
``lr``).

>>> from dynsys.plot.style import finish, pyplot
>>> plt = pyplot()
>>> fig = finish(plt.figure(figsize=(3.3, 2.0)))
>>> plt.close(fig)
"""

from ._style import finish, new_axes, pyplot, tex

__all__ = ["pyplot", "finish", "new_axes", "tex"]
