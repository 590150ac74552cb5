"""The shared ``--quick``/``--out`` parser of the scripts left in analyses/ (the network
studies, which need optional dependencies); the packaged studies use the same one."""

from dynsys.studies._common import parse_args

__all__ = ["parse_args"]
