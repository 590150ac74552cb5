"""The library's figure style, for scripts that compose figures of their own.

``pyplot()`` returns ``matplotlib.pyplot`` set up as every dynsys figure is (a non-interactive
backend when there is no display, paper-sized fonts, 300 dpi on save); ``finish(fig, path)``
returns ``fig`` after saving it to ``path`` (creating its directory).

>>> from dynsys.plot.style import finish, pyplot
>>> plt = pyplot()
>>> fig = finish(plt.figure(figsize=(3.3, 2.0)))
>>> plt.close(fig)
"""

from ._style import finish, pyplot

__all__ = ["pyplot", "finish"]
