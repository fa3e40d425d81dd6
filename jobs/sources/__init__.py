"""Stream sources of bronze. The source is one string: files:<dir> | kafka:<servers>/<topic> | kinesis:<stream>."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from jobs.runtime.settings import Settings, UsageError
from jobs.runtime.streams import FileSource, KafkaSource, KinesisSource, Source, parse_source
from jobs.sources.files import read_file_stream, with_line_numbers
from jobs.sources.kafka import read_kafka_stream
from jobs.sources.kinesis import read_kinesis_stream
from jobs.storage.files import location

__all__ = ["FileSource", "KafkaSource", "KinesisSource", "Source", "checked_source", "parse_source", "read_source"]


def checked_source(settings: Settings) -> Source:
    """The configured source; a `files:` folder must exist (a typo would otherwise wait forever for files). On S3 a
    prefix exists once an object is under it."""
    source = parse_source(settings.source)
    if isinstance(source, FileSource) and not location(settings, source.directory).is_dir():
        raise UsageError(f"source folder does not exist: {source.directory}")
    return source


def read_source(spark: SparkSession, source: Source) -> DataFrame:
    """The source as a stream; `records_of_batch` turns each of its micro-batches into bronze's records."""
    if isinstance(source, FileSource):
        return read_file_stream(spark, source.directory)
    if isinstance(source, KafkaSource):
        return read_kafka_stream(spark, source.bootstrap_servers, source.topic)
    return read_kinesis_stream(spark, source.stream)


def records_of_batch(source: Source, batch: DataFrame) -> DataFrame:
    """One micro-batch of `read_source` -> payload, source, source_position. Only files need the whole batch for
    that: their line numbers."""
    if isinstance(source, FileSource):
        return with_line_numbers(batch)
    return batch
