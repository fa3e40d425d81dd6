"""A local S3 server: s3proxy 4.1 (Maven Central jars, Java 17) with its file-system backend, on loopback
(LAKEHOUSE_S3_PORT, default 19000), with its request metrics (Prometheus text) on the next port up.

Why s3proxy: it speaks the S3 REST API with AWS signatures v2 and v4, multipart uploads, server-side copies and
conditional puts, which is what Hadoop's S3A, Trino's native S3 file system and pyarrow ask of a server; it comes
from Maven Central like the other JVM services; and it keeps each bucket as a plain folder under
<run dir>/s3/data. (moto's server also speaks S3 but answers about 130 small PUTs a second and does not resolve
concurrent conditional writes atomically; MinIO is not in any registry reachable here.)

One identity, `lakehouse`, whose secret key is made at random at the first start and kept in
<run dir>/s3/secrets/ (readable by the owner only); anonymous requests are refused. `set_up` creates the bucket
`lakehouse`, where `make demo-s3` keeps its warehouse.
"""

from __future__ import annotations

import urllib.request
from collections import Counter
from pathlib import Path

import pyarrow.fs as pafs
from prometheus_client.parser import text_string_to_metric_families

from jobs.runtime.settings import DEFAULTS
from jobs.services.base import LOOPBACK, MavenJarsService, port_open, private_file
from jobs.storage.files import s3_filesystem

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LOG_CONFIG = HERE / "logback.xml"
IDENTITY = "lakehouse"
BUCKET = "lakehouse"
# A small heap and the serial collector, as for Kafka: the server streams objects to and from disk.
JVM_OPTIONS = ["-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true"]


class S3Service(MavenJarsService):
    name = "s3"
    pom = POM
    default_port = 19000
    start_timeout = 30.0

    @property
    def config_file(self) -> Path:
        return self.home / "s3proxy.properties"

    @property
    def metrics_port(self) -> int:
        return self.port + 1

    def prepare(self) -> None:
        super().prepare()
        secret = self.secret(IDENTITY)
        properties = {
            "s3proxy.endpoint": self.url,
            "s3proxy.authorization": "aws-v2-or-v4",
            # Trino's SDK asks ListObjectsV2 for x-amz-optional-object-attributes (restore status of archived
            # objects), which s3proxy would refuse with 501; the listing itself is complete without it.
            "s3proxy.ignore-unknown-headers": "true",
            "s3proxy.identity": IDENTITY,
            "s3proxy.credential": secret,
            "jclouds.provider": "filesystem-nio2",
            "jclouds.filesystem.basedir": str(self.data_dir),
            "jclouds.identity": IDENTITY,
            "jclouds.credential": secret,
            # Requests per S3 operation, which the S3 benchmark counts (loopback only, like the server).
            "s3proxy.metrics.enabled": "true",
            "s3proxy.metrics.host": LOOPBACK,
            "s3proxy.metrics.port": self.metrics_port,
        }
        lines = [f"{key}={value}" for key, value in properties.items()]
        private_file(self.config_file).write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        java = ["java", *JVM_OPTIONS, f"-Dlogback.configurationFile={LOG_CONFIG}", "-cp", f"{self.libs}/*"]
        return [*java, "org.gaul.s3proxy.Main", "--properties", str(self.config_file)]

    def filesystem(self, allow_bucket_creation: bool = False) -> pafs.S3FileSystem:
        """A client that fails fast: one attempt, short timeouts (a health check is asked many times a second)."""
        return s3_filesystem(
            self.url,
            DEFAULTS["s3_region"],
            self.login(IDENTITY),
            connect_timeout=1,
            request_timeout=2,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
            allow_bucket_creation=allow_bucket_creation,
        )

    def healthy(self) -> bool:
        """The server answers a signed ListBuckets with our identity."""
        if not port_open(self.port):
            return False
        try:
            self.filesystem().get_file_info(pafs.FileSelector("", recursive=False))
        except OSError:
            return False
        return True

    def set_up(self) -> None:
        self.create_bucket(BUCKET)

    def request_counts(self) -> Counter[str]:
        """The requests the server has answered since it started, per S3 operation (ListObjectsV2, HeadObject,
        PutObject, ...), from its metrics."""
        with urllib.request.urlopen(f"http://{LOOPBACK}:{self.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        counts: Counter[str] = Counter()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "http_server_request_duration_seconds_count":
                    counts[sample.labels.get("s3_operation", "other")] += int(sample.value)
        return counts

    def create_bucket(self, bucket: str) -> None:
        """Create `bucket` if it is missing."""
        self.filesystem(allow_bucket_creation=True).create_dir(bucket)

    def exports(self) -> dict[str, str]:
        """The endpoint and the identity (its secret key as a file: never printed)."""
        return {
            "LAKEHOUSE_S3_ENDPOINT": self.url,
            "LAKEHOUSE_S3_USER": IDENTITY,
            "LAKEHOUSE_S3_PASSWORD_FILE": str(self.password_file(IDENTITY)),
        }
