"""Moved: the engine connection and its state are `journeylib.engine` (below prepare and the analyses).

The names are kept here for older callers; new code imports them from `journeylib.engine.*`.
"""

from __future__ import annotations

from journeylib.engine.connection import (DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, ON_DISK_FROM_BYTES,  # noqa: F401
                                          connect, disconnect)
from journeylib.engine.files import MAX_LINE_BYTES, RAW_ROW, read_raw, write_parquet  # noqa: F401
from journeylib.engine.spark import (JAVA_INSTALL, JAVA_VERSIONS, SPARK_DEFAULTS, SPARK_FIXED,  # noqa: F401
                                     SPARK_INSTALL, SPARK_LOCAL_DEFAULTS, bundled_java, check_spark,
                                     clear_parser_caches, find_java, java_for_launch, java_major, spark_session)
from journeylib.engine.tables import materialise, to_arrow  # noqa: F401
