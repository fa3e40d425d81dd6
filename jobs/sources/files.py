"""JSON Lines files dropped in a folder, read as a stream: the embedded default source, no server needed.

Files are read in splits (`spark.sql.files.maxPartitionBytes`, 128 MiB by default), so a file of any size lands with
the default memory. `source_position` is `<file uri>:<line>`, which tells copies of one event in one file apart and
orders them. A split knows where it starts in bytes, not in lines, so the lines are numbered per micro-batch
(`with_line_numbers`), where every split of a file is at hand. Files whose name starts with '.' or '_' are ignored
until they are renamed, so a writer should write under such a name and rename when done.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F


def read_file_stream(spark: SparkSession, directory: str) -> DataFrame:
    """The lines of new files (payload, file_path, split_start), each split's lines in file order. Lines end at
    '\\n' only, so a '\\r' stays in its record as sent; the empty string after a file's final newline is not a line,
    any other empty line is a record."""
    return (
        spark.readStream.format("text")
        .option("lineSep", "\n")
        .load(directory)
        .select(
            F.col("value").alias("payload"),
            F.col("_metadata.file_path").alias("file_path"),
            F.col("_metadata.file_block_start").alias("split_start"),
        )
    )


def with_line_numbers(lines: DataFrame) -> DataFrame:
    """(payload, file_path, split_start) of one micro-batch -> payload, source, source_position.

    Within a Spark partition a split's lines keep their order and monotonically_increasing_id numbers them
    consecutively, so a line's number in its file is the lines of the file's earlier splits plus its place in its
    split. That takes one small aggregate (a row per split), broadcast back: no shuffle of the lines. Both reads of
    `lines` scan the same files in the same partitions, so they number the rows alike."""
    numbered = lines.withColumn("_row", F.monotonically_increasing_id())
    earlier_splits = Window.partitionBy("file_path").orderBy("split_start").rowsBetween(Window.unboundedPreceding, -1)
    splits = (
        numbered.groupBy("file_path", "split_start")
        .agg(F.min("_row").alias("_first_row"), F.count("*").alias("_lines"))
        .withColumn("_lines_before", F.coalesce(F.sum("_lines").over(earlier_splits), F.lit(0)))
    )
    line = F.col("_lines_before") + (F.col("_row") - F.col("_first_row")) + 1
    return numbered.join(F.broadcast(splits), ["file_path", "split_start"]).select(
        "payload",
        F.lit("files").alias("source"),
        F.concat_ws(":", "file_path", line.cast("string")).alias("source_position"),
    )
