"""OpenSearch 2.19: one real node from Maven Central jars on loopback (LAKEHOUSE_OPENSEARCH_PORT, default 19200).

The HTTP (REST) port is the configured one; the transport port, which only other nodes would use, is the next one
up. `fetch` resolves the jars of pom.xml with Maven; the node runs LocalNode.java with Java's source launcher (no
build step), with its config, data and logs under <run dir>/opensearch. Security is off: it listens on loopback only.
"""

from __future__ import annotations

import json
from pathlib import Path

from jobs.services.base import MavenJarsService, http_check

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
MAIN = HERE / "LocalNode.java"
LOG_CONFIG = HERE / "log4j2.properties"
# A fixed heap that leaves room for Spark next to it. IPv4 sockets, as for Kafka.
JVM_OPTIONS = ["-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true"]


class OpenSearchService(MavenJarsService):
    name = "opensearch"
    pom = POM
    default_port = 19200
    start_timeout = 90.0

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    def prepare(self) -> None:
        super().prepare()
        self.config_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "cluster.name": "lakehouse",
            "node.name": "lakehouse",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self.port,
            "transport.port": self.port + 1,
            "path.data": str(self.data_dir),
            "path.logs": str(self.home / "logs"),
            # A laptop disk is often more than 90% full: the default watermarks would then refuse to place shards.
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        # YAML is a superset of JSON, so each value written as JSON is read back as the same scalar.
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        (self.config_dir / "opensearch.yml").write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        java = ["java", *JVM_OPTIONS, f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}", "-cp", f"{self.libs}/*"]
        return [*java, str(MAIN), str(self.home)]

    def healthy(self) -> bool:
        """The node answers and has elected itself cluster manager (status yellow or green)."""
        health = "/_cluster/health?wait_for_status=yellow&timeout=1s"
        return http_check(self.port, health, lambda response: json.load(response)["status"] in ("yellow", "green"))

    def exports(self) -> dict[str, str]:
        return {"LAKEHOUSE_OPENSEARCH_URL": self.url}
