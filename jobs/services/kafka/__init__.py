"""Kafka: a real single-node KRaft broker (broker and controller in one JVM) on loopback, from Maven Central jars.

The client port is LAKEHOUSE_KAFKA_PORT (default 19092); the controller listens on the next port up.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from jobs.runtime.settings import ServiceSettings
from jobs.runtime.waiting import wait_until
from jobs.services.base import LOOPBACK, MavenJarsService, ServiceError, port_open, run_tool

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LOG_CONFIG = HERE / "log4j2.properties"
# A small heap and the serial collector: a laptop broker for tests and demos, sharing 2 cores with Spark.
# IPv4 sockets: Java's dual-stack ones can bind a loopback port that another process already listens on.
JVM_OPTIONS = ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true"]
CLIENT_TIMEOUT_SECONDS = 2.0


class KafkaService(MavenJarsService):
    name = "kafka"
    pom = POM
    default_port = 19092

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    def prepare(self) -> None:
        """Write server.properties for the current ports, and format the data dir the first time."""
        super().prepare()
        self.config_file.write_text(server_properties(self))
        if not (self.data_dir / "meta.properties").is_file():
            self._format_storage()

    def _format_storage(self) -> None:
        command = [*self._java(), "kafka.tools.StorageTool", "format", "--ignore-formatted"]
        # `--cluster-id=<id>` in one word: an id may begin with '-', which would read as the next option.
        command += [f"--cluster-id={random_cluster_id()}", "--config", str(self.config_file)]
        run_tool(command, f"formatting Kafka's storage in {self.data_dir}")

    def _java(self) -> list[str]:
        return ["java", *JVM_OPTIONS, f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}", "-cp", f"{self.libs}/*"]

    def command(self) -> list[str]:
        return [*self._java(), "kafka.Kafka", str(self.config_file)]

    def healthy(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            admin_client(self.address).list_topics(timeout=CLIENT_TIMEOUT_SECONDS)
        except KafkaException:
            return False
        return True

    def exports(self) -> dict[str, str]:
        # The name most Kafka tools and images use; the lakehouse itself takes `--source kafka:<servers>/<topic>`.
        return {"KAFKA_BOOTSTRAP_SERVERS": self.address}


def server_properties(service: KafkaService) -> str:
    """One node that is broker and controller, loopback only, every internal topic with one replica."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        # A static voter set: nothing about the controller's address is stored in the data dir, so a port change
        # needs no reformat.
        "controller.quorum.voters": f"1@{LOOPBACK}:{service.controller_port}",
        "listeners": f"PLAINTEXT://{service.address},CONTROLLER://{LOOPBACK}:{service.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{service.address}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(service.data_dir),
        # Topics are made on purpose, with their partition count (create_topic), never by a typo in a producer.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Internal topics with few partitions start fast; a consumer group joins without the 3 s default wait.
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Records up to 2 MiB: a 1 MiB record (the most Kinesis takes) plus its headers still fits, and reaches
        # quarantine instead of being refused at the door.
        "message.max.bytes": str(2 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` prints."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


# --- for clients -------------------------------------------------------------------------------------------


def bootstrap_servers(settings: ServiceSettings | None = None) -> str:
    """`127.0.0.1:<LAKEHOUSE_KAFKA_PORT>`: where the local broker is."""
    return KafkaService.configured(settings).address


def admin_client(servers: str) -> AdminClient:
    # log_level 0: librdkafka would print a line on stderr for each refused or failed connection.
    return AdminClient({"bootstrap.servers": servers, "log_level": 0})


def create_topic(topic: str, partitions: int = 1, *, servers: str | None = None, timeout: float = 30.0) -> None:
    """Create `topic` with `partitions` partitions and one replica, and wait until each partition has a leader.

    An existing topic is left as it is.
    """
    servers = bootstrap_servers() if servers is None else servers
    admin = admin_client(servers)
    future = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic]
    try:
        future.result(timeout=timeout)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    _wait_for_leaders(admin, topic, timeout)


def _wait_for_leaders(admin: AdminClient, topic: str, timeout: float) -> None:

    def led() -> bool:
        metadata = admin.list_topics(topic, timeout=CLIENT_TIMEOUT_SECONDS).topics.get(topic)
        partitions = metadata.partitions.values() if metadata and metadata.error is None else []
        return bool(partitions) and all(partition.leader >= 0 for partition in partitions)

    if not wait_until(led, timeout):
        raise ServiceError(f"topic {topic!r} has no leader for every partition after {timeout:.0f} s")
