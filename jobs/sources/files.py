"""JSON Lines files dropped in a folder, read as a stream: the embedded default source, no server needed.

Each file is read whole so that every line keeps its line number: `source_position` is `<file uri>:<line>`, which
tells copies of one event in one file apart and orders them. Files whose name starts with '.' or '_' are ignored
until they are renamed, so a writer should write under such a name and rename when done.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def lines_of_files(files: DataFrame) -> DataFrame:
    """(value = whole file text, file_path) -> one row per line: payload, source, source_position.
    The empty string after a file's final newline is not a line; any other empty line is kept as a record."""
    text = F.col("value")
    without_final_newline = F.when(text.endswith("\n"), F.expr("substring(value, 1, length(value) - 1)")).otherwise(
        text
    )
    # Only file_path travels through the explode: carrying the whole file text along would copy it once per line.
    lines = files.filter(text != "").select(
        "file_path", F.posexplode(F.split(without_final_newline, "\n")).alias("index", "payload")
    )
    return lines.select(
        "payload",
        F.lit("files").alias("source"),
        F.concat_ws(":", "file_path", (F.col("index") + 1).cast("string")).alias("source_position"),
    )


def read_file_stream(spark: SparkSession, directory: str) -> DataFrame:
    files = (
        spark.readStream.format("text")
        .option("wholetext", True)
        .load(directory)
        .select("value", F.col("_metadata.file_path").alias("file_path"))
    )
    return files.transform(lines_of_files)
